//===- Checkpoint.cpp - Loading into models; model + optimizer files ------===//
#include "kiln/Checkpoint.h"

#include "kiln/Support/Shapes.h"

#include <map>

namespace kiln {

namespace {

/// "'a', 'b'".
std::string quotedList(const std::vector<std::string> &names) {
  std::string out;
  for (const std::string &n : names)
    out += strCat(out.empty() ? "" : ", ", "'", n, "'");
  return out;
}

} // namespace

Status loadInto(const NamedTensorList &source, NamedTensorList &destination,
                bool strict) {
  std::map<std::string_view, const Tensor *> bySource;
  std::vector<std::string> duplicateSource, duplicateDestination, missing,
      unexpected, wrongShape, wrongDType, undefined;
  for (const auto &[name, t] : source)
    if (!bySource.emplace(name, &t).second)
      duplicateSource.push_back(name);
  std::map<std::string_view, bool> seenDestination;
  std::vector<std::pair<Tensor *, const Tensor *>> copies;
  for (auto &[name, dst] : destination) {
    if (!seenDestination.emplace(name, true).second) {
      duplicateDestination.push_back(name);
      continue;
    }
    auto it = bySource.find(name);
    if (it == bySource.end()) {
      if (strict)
        missing.push_back(name);
      continue;
    }
    const Tensor &src = *it->second;
    if (!dst.defined() || !src.defined()) {
      undefined.push_back(strCat("'", name, "' (",
                                 !src.defined() ? "source" : "destination",
                                 ")"));
      continue;
    }
    bool ok = true;
    if (src.shape() != dst.shape()) {
      wrongShape.push_back(strCat("'", name, "' (",
                                  shapes::toString(src.shape()),
                                  " in the source, ",
                                  shapes::toString(dst.shape()),
                                  " in the destination)"));
      ok = false;
    }
    if (src.dtype() != dst.dtype()) {
      wrongDType.push_back(strCat("'", name, "' (", dtypeName(src.dtype()),
                                  " in the source, ", dtypeName(dst.dtype()),
                                  " in the destination)"));
      ok = false;
    }
    if (ok)
      copies.emplace_back(&dst, &src);
  }
  if (strict)
    for (const auto &[name, t] : source)
      if (!seenDestination.count(name))
        unexpected.push_back(name);

  std::string problems;
  auto add = [&](std::string_view what, const std::string &list) {
    if (!list.empty())
      problems += strCat(problems.empty() ? "" : "; ", what, ": ", list);
  };
  auto join = [](const std::vector<std::string> &items) {
    std::string out;
    for (const std::string &s : items)
      out += (out.empty() ? "" : ", ") + s;
    return out;
  };
  add("missing", quotedList(missing));
  add("unexpected", quotedList(unexpected));
  add("wrong shape", join(wrongShape));
  add("wrong dtype", join(wrongDType));
  add("undefined", join(undefined));
  add("duplicate in the source", quotedList(duplicateSource));
  add("duplicate in the destination", quotedList(duplicateDestination));
  if (!problems.empty())
    return invalidArgument("loadInto: ", problems, " (nothing was copied)");

  for (auto &[dst, src] : copies)
    KILN_RETURN_IF_ERROR(dst->copyFrom(*src));
  return Status();
}

Status loadInto(const SafetensorsFile &source, NamedTensorList &destination,
                bool strict) {
  return loadInto(source.tensors, destination, strict);
}

Status saveCheckpoint(const std::string &path, const NamedTensorList &model,
                      const NamedTensorList &optimizerState,
                      const std::map<std::string, std::string> &metadata) {
  NamedTensorList all;
  all.reserve(model.size() + optimizerState.size());
  for (const auto &[name, t] : model)
    all.emplace_back(strCat(kCheckpointModelPrefix, name), t);
  for (const auto &[name, t] : optimizerState)
    all.emplace_back(strCat(kCheckpointOptimizerPrefix, name), t);
  return saveSafetensors(path, all, metadata);
}

Expected<Checkpoint> loadCheckpoint(const std::string &path) {
  KILN_ASSIGN_OR_RETURN(SafetensorsFile file, loadSafetensors(path));
  Checkpoint ckpt;
  ckpt.metadata = std::move(file.metadata);
  for (auto &[name, t] : file.tensors) {
    std::string_view n = name;
    if (n.starts_with(kCheckpointModelPrefix))
      ckpt.model.emplace_back(n.substr(kCheckpointModelPrefix.size()),
                              std::move(t));
    else if (n.starts_with(kCheckpointOptimizerPrefix))
      ckpt.optimizer.emplace_back(n.substr(kCheckpointOptimizerPrefix.size()),
                                  std::move(t));
    else
      return dataLoss(path, ": tensor '", name, "' is neither '",
                      kCheckpointModelPrefix, "...' nor '",
                      kCheckpointOptimizerPrefix,
                      "...'; not a Kiln checkpoint");
  }
  return ckpt;
}

} // namespace kiln
