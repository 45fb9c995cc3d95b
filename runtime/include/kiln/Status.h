//===- Status.h - Error values for the Kiln runtime ------------------------===//
//
// Errors are values (DESIGN.md): every fallible runtime call returns a
// kiln::Status or a kiln::Expected<T>. The OK path costs one null pointer, so
// returning a Status from a hot call is free; the error path allocates the
// message once.
//
//   kiln::Expected<kiln::Tensor> t = kiln::Tensor::zeros({2, 3}, kiln::DType::F32);
//   if (!t) return t.status();          // or KILN_ASSIGN_OR_RETURN(auto x, ...)
//
//===----------------------------------------------------------------------===//
#ifndef KILN_STATUS_H
#define KILN_STATUS_H

#include <cassert>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace kiln {

/// What went wrong, coarsely; the message says exactly what.
enum class StatusCode : unsigned char {
  Ok = 0,
  InvalidArgument,    ///< Bad shape, axis, dtype, attribute or argument.
  OutOfRange,         ///< An index or value outside its valid range.
  NotFound,           ///< A file, device, symbol or name that does not exist.
  OutOfMemory,        ///< An allocation over the limit or refused by the OS.
  IoError,            ///< Reading or writing a file failed.
  DataLoss,           ///< A file is truncated, corrupt or inconsistent.
  FailedPrecondition, ///< The call is valid but not in the current state.
  Unavailable,        ///< A device or library exists but cannot be used.
  Internal,           ///< A broken invariant of Kiln itself.
};

/// "InvalidArgument", "OutOfMemory", ...
std::string_view statusCodeName(StatusCode code);

/// Concatenates anything streamable into one string, for building messages.
template <typename... Args> std::string strCat(const Args &...args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

/// OK, or an error code with a message. Move-only-cheap: OK holds no memory.
class [[nodiscard]] Status {
public:
  /// OK.
  Status() = default;
  Status(StatusCode code, std::string message);
  Status(const Status &other)
      : state_(other.state_ ? std::make_unique<State>(*other.state_) : nullptr) {}
  Status &operator=(const Status &other) {
    if (this != &other)
      state_ = other.state_ ? std::make_unique<State>(*other.state_) : nullptr;
    return *this;
  }
  Status(Status &&) noexcept = default;
  Status &operator=(Status &&) noexcept = default;

  static Status ok() { return Status(); }

  bool isOk() const { return state_ == nullptr; }
  StatusCode code() const { return state_ ? state_->code : StatusCode::Ok; }
  /// The message alone; empty when OK.
  const std::string &message() const;
  /// "OutOfMemory: requested ..." or "OK".
  std::string toString() const;

  /// Prefixes the message with where it happened ("in op 'add': ..."). A no-op
  /// on OK, so it can wrap any returned status.
  Status withContext(std::string_view context) &&;

  /// Marks a status as deliberately ignored.
  void ignore() const {}

  friend bool operator==(const Status &a, const Status &b) {
    return a.code() == b.code() && a.message() == b.message();
  }

private:
  struct State {
    StatusCode code;
    std::string message;
  };
  std::unique_ptr<State> state_;
};

std::ostream &operator<<(std::ostream &os, const Status &status);

/// Factories; each takes message pieces that strCat joins.
#define KILN_STATUS_FACTORY(fn, code)                                          \
  template <typename... Args> Status fn(const Args &...args) {                 \
    return Status(StatusCode::code, strCat(args...));                          \
  }
KILN_STATUS_FACTORY(invalidArgument, InvalidArgument)
KILN_STATUS_FACTORY(outOfRange, OutOfRange)
KILN_STATUS_FACTORY(notFound, NotFound)
KILN_STATUS_FACTORY(outOfMemory, OutOfMemory)
KILN_STATUS_FACTORY(ioError, IoError)
KILN_STATUS_FACTORY(dataLoss, DataLoss)
KILN_STATUS_FACTORY(failedPrecondition, FailedPrecondition)
KILN_STATUS_FACTORY(unavailable, Unavailable)
KILN_STATUS_FACTORY(internalError, Internal)
#undef KILN_STATUS_FACTORY

/// A T, or the Status saying why there is none. Constructing it from an OK
/// Status is a bug of the caller and becomes an Internal error.
template <typename T> class [[nodiscard]] Expected {
  static_assert(!std::is_same_v<std::decay_t<T>, Status>,
                "Expected<Status> makes no sense; return Status");

public:
  Expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  template <typename U,
            std::enable_if_t<std::is_constructible_v<T, U &&> &&
                                 !std::is_same_v<std::decay_t<U>, Status> &&
                                 !std::is_same_v<std::decay_t<U>, T> &&
                                 !std::is_same_v<std::decay_t<U>, Expected>,
                             int> = 0>
  Expected(U &&value) : v_(std::in_place_index<0>, T(std::forward<U>(value))) {}
  Expected(Status status) : v_(std::in_place_index<1>, std::move(status)) {
    if (std::get<1>(v_).isOk())
      std::get<1>(v_) =
          Status(StatusCode::Internal, "Expected<T> built from an OK status");
  }

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  /// The error; OK when there is a value.
  const Status &status() const {
    static const Status okStatus;
    return ok() ? okStatus : std::get<1>(v_);
  }
  /// Moves the error out (for propagation without a copy).
  Status takeStatus() { return ok() ? Status() : std::move(std::get<1>(v_)); }

  /// The value. Calling these on an error is a bug of the caller.
  T &value() & {
    assert(ok() && "value() of an Expected holding an error");
    return std::get<0>(v_);
  }
  const T &value() const & {
    assert(ok() && "value() of an Expected holding an error");
    return std::get<0>(v_);
  }
  T &&value() && {
    assert(ok() && "value() of an Expected holding an error");
    return std::get<0>(std::move(v_));
  }
  T &operator*() & { return value(); }
  const T &operator*() const & { return value(); }
  T &&operator*() && { return std::move(*this).value(); }
  T *operator->() { return &value(); }
  const T *operator->() const { return &value(); }

  /// The value, or `fallback` on error.
  T valueOr(T fallback) const & { return ok() ? std::get<0>(v_) : fallback; }

private:
  std::variant<T, Status> v_;
};

namespace detail {
inline Status toStatus(Status s) { return s; }
template <typename T> Status toStatus(Expected<T> &&e) { return e.takeStatus(); }
template <typename T> Status toStatus(const Expected<T> &e) { return e.status(); }
} // namespace detail

#define KILN_CONCAT_IMPL(a, b) a##b
#define KILN_CONCAT(a, b) KILN_CONCAT_IMPL(a, b)

/// Returns the status of `expr` (a Status or Expected) when it is an error.
#define KILN_RETURN_IF_ERROR(expr)                                             \
  do {                                                                         \
    ::kiln::Status kiln_status_ = ::kiln::detail::toStatus(expr);              \
    if (!kiln_status_.isOk())                                                  \
      return kiln_status_;                                                     \
  } while (false)

/// `KILN_ASSIGN_OR_RETURN(auto t, makeTensor())`: declares/assigns the value
/// of an Expected, or returns its error from the enclosing function.
#define KILN_ASSIGN_OR_RETURN(lhs, expr)                                       \
  KILN_ASSIGN_OR_RETURN_IMPL(KILN_CONCAT(kiln_expected_, __LINE__), lhs, expr)
#define KILN_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr)                             \
  auto tmp = (expr);                                                           \
  if (!tmp.ok())                                                               \
    return tmp.takeStatus();                                                   \
  lhs = std::move(tmp).value()

} // namespace kiln

#endif // KILN_STATUS_H
