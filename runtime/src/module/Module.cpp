//===- Module.cpp - Loading .kiln files and making sessions ---------------===//
#include "ModuleData.h"

#include <algorithm>
#include <fstream>

namespace kiln {

Expected<std::shared_ptr<Module>> Module::load(const std::string &path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in)
    return notFound("cannot open '", path, "'");
  std::streamoff size = in.tellg();
  if (size < 0)
    return ioError("cannot read '", path, "'");
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  in.seekg(0);
  if (size > 0 && !in.read(reinterpret_cast<char *>(bytes.data()), size))
    return ioError("cannot read ", size, " bytes from '", path, "'");
  return loadBytes(std::move(bytes), path);
}

Expected<std::shared_ptr<Module>> Module::loadBytes(std::vector<uint8_t> bytes,
                                                    std::string name) {
  KILN_ASSIGN_OR_RETURN(std::shared_ptr<ModuleData> data,
                        parseModule(std::move(bytes), std::move(name)));
  return std::shared_ptr<Module>(new Module(std::move(data)));
}

std::vector<std::string> Module::functionNames() const {
  std::vector<std::string> names;
  for (const FunctionData &f : data_->functions)
    names.push_back(f.name);
  return names;
}

Expected<Session> Module::newSession(std::string_view function,
                                     SessionOptions options) const {
  auto it = std::find_if(data_->functions.begin(), data_->functions.end(),
                         [&](const FunctionData &f) { return f.name == function; });
  if (it == data_->functions.end())
    return notFound(data_->name, " has no function '", function, "'");
  // Arena offsets are 64-byte aligned, so element views stay aligned.
  size_t bytes = options.reference ? 64 : std::max<size_t>(it->arenaSize, 64);
  KILN_ASSIGN_OR_RETURN(std::shared_ptr<Storage> arena,
                        Storage::allocate(cpuDevice(), bytes));
  return Session(data_, size_t(it - data_->functions.begin()), std::move(arena),
                 options);
}

const std::vector<TensorSpec> &Session::inputs() const {
  return data_->functions[function_].inputs;
}
const std::vector<TensorSpec> &Session::outputs() const {
  return data_->functions[function_].outputs;
}
size_t Session::arenaBytes() const { return arena_->bytes(); }

} // namespace kiln
