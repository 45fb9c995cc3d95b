//===- Status.cpp - Error values for the Kiln runtime ----------------------===//
#include "kiln/Status.h"

#include <ostream>

namespace kiln {

std::string_view statusCodeName(StatusCode code) {
  switch (code) {
  case StatusCode::Ok:
    return "OK";
  case StatusCode::InvalidArgument:
    return "InvalidArgument";
  case StatusCode::OutOfRange:
    return "OutOfRange";
  case StatusCode::NotFound:
    return "NotFound";
  case StatusCode::OutOfMemory:
    return "OutOfMemory";
  case StatusCode::IoError:
    return "IoError";
  case StatusCode::DataLoss:
    return "DataLoss";
  case StatusCode::FailedPrecondition:
    return "FailedPrecondition";
  case StatusCode::Unavailable:
    return "Unavailable";
  case StatusCode::Internal:
    return "Internal";
  }
  return "Unknown";
}

Status::Status(StatusCode code, std::string message) {
  // An OK code with a message is still OK: keep the OK path allocation-free.
  if (code != StatusCode::Ok)
    state_ = std::make_unique<State>(State{code, std::move(message)});
}

const std::string &Status::message() const {
  static const std::string empty;
  return state_ ? state_->message : empty;
}

std::string Status::toString() const {
  if (isOk())
    return "OK";
  return strCat(statusCodeName(code()), ": ", message());
}

Status Status::withContext(std::string_view context) && {
  if (state_)
    state_->message = strCat(context, ": ", state_->message);
  return std::move(*this);
}

std::ostream &operator<<(std::ostream &os, const Status &status) {
  return os << status.toString();
}

} // namespace kiln
