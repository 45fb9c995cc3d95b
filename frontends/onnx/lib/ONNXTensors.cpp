//===- ONNXTensors.cpp - TensorProto data, inline or external -------------===//
//
// Initializers and Constant values become DenseElementsAttr. The byte count
// of the data must match the declared shape exactly. External data is read
// only from regular, singly linked files inside the model's directory, and
// only within the file's bounds.
//
//===----------------------------------------------------------------------===//
#include "ONNXImporter.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Path.h"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mlir::kiln::onnx {

using ::onnx::TensorProto;

Type elementTypeOf(MLIRContext *ctx, int32_t t) {
  Builder b(ctx);
  switch (t) {
  case TensorProto::FLOAT: return b.getF32Type();
  case TensorProto::DOUBLE: return b.getF64Type();
  case TensorProto::FLOAT16: return b.getF16Type();
  case TensorProto::BFLOAT16: return b.getBF16Type();
  case TensorProto::INT64: return b.getI64Type();
  case TensorProto::INT32: return b.getI32Type();
  case TensorProto::INT8: return b.getI8Type();
  case TensorProto::BOOL: return b.getI1Type();
  default: return {};
  }
}

std::string onnxTypeName(int32_t t) {
  if (TensorProto::DataType_IsValid(t)) {
    std::string s = TensorProto::DataType_Name(TensorProto::DataType(t));
    return llvm::StringRef(s).lower();
  }
  return "data type " + std::to_string(t);
}

int64_t elementBytes(Type type) {
  if (type.isInteger(1))
    return 1;
  return type.getIntOrFloatBitWidth() / 8;
}

FailureOr<RankedTensorType> checkedTensorType(Location loc,
                                              ArrayRef<int64_t> shape,
                                              Type element,
                                              llvm::StringRef what) {
  // Zero dims do not count: a [0, 2^62, 2^62] tensor is empty, but its
  // other dims still multiply (Flatten, Softmax's 2-D view, a reshape) and
  // would overflow int64, so they are held to the same limit.
  int64_t bytes = elementBytes(element);
  for (int64_t d : shape) {
    if (d < 0)
      return emitError(loc) << what << " has a negative dim (" << d << ")";
    if (d == 0)
      continue;
    if (bytes > kMaxTensorBytes / d)
      return emitError(loc) << what << " is too large: its dims ["
                            << llvm::make_range(shape.begin(), shape.end())
                            << "] exceed Kiln's limit of 2^40 bytes per tensor";
    bytes *= d;
  }
  return RankedTensorType::get(shape, element);
}

namespace {

/// Reads `length` bytes at `offset` of a file named by `location` relative
/// to `modelDir`, refusing anything that leaves the directory.
FailureOr<std::string> readExternal(Location loc, llvm::StringRef what,
                                    llvm::StringRef modelDir,
                                    llvm::StringRef location, int64_t offset,
                                    int64_t length) {
  auto refuse = [&]() {
    return emitError(loc) << what << ": external data '" << location << "' ";
  };
  if (modelDir.empty())
    return refuse() << "cannot be read: the model was not loaded from a file";
  if (location.empty())
    return refuse() << "has no location";
  if (location.contains('\0'))
    return refuse() << "has a NUL byte in its path";
  if (llvm::sys::path::is_absolute(location, llvm::sys::path::Style::posix) ||
      location.starts_with("\\") || (location.size() > 1 && location[1] == ':'))
    return refuse() << "is an absolute path; external data must be relative "
                       "to the model's directory";
  llvm::SmallVector<llvm::StringRef> parts;
  location.split(parts, llvm::StringRef("/"));
  for (llvm::StringRef p : parts) {
    llvm::SmallVector<llvm::StringRef> sub;
    p.split(sub, '\\');
    for (llvm::StringRef s : sub)
      if (s == "..")
        return refuse() << "contains '..'; external data must stay inside "
                           "the model's directory";
  }

  char dirReal[PATH_MAX], fileReal[PATH_MAX];
  std::string dir = modelDir.str();
  if (!::realpath(dir.c_str(), dirReal))
    return refuse() << "cannot be resolved: model directory '" << modelDir
                    << "': " << std::strerror(errno);
  std::string joined = std::string(dirReal) + "/" + location.str();
  if (!::realpath(joined.c_str(), fileReal))
    return refuse() << "cannot be opened: " << std::strerror(errno);
  llvm::StringRef dirRef(dirReal), fileRef(fileReal);
  std::string prefix = dirRef == "/" ? "/" : (dirRef + "/").str();
  if (!fileRef.starts_with(prefix))
    return refuse() << "resolves to '" << fileRef
                    << "', outside the model's directory (a symbolic link?)";

  int fd = ::open(fileReal, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return refuse() << "cannot be opened: " << std::strerror(errno);
  auto closeFd = llvm::make_scope_exit([&] { ::close(fd); });
  struct stat st;
  if (::fstat(fd, &st) != 0)
    return refuse() << "cannot be read: " << std::strerror(errno);
  if (!S_ISREG(st.st_mode))
    return refuse() << "is not a regular file";
  // A second name may live anywhere on the file system: a hard link is
  // indistinguishable from a file outside the directory, so refuse it.
  if (st.st_nlink > 1)
    return refuse() << "is a hard link (" << uint64_t(st.st_nlink)
                    << " names); external data must be a file of its own";
  int64_t size = int64_t(st.st_size);
  if (offset < 0 || offset > size)
    return refuse() << "offset " << offset << " is outside the file ("
                    << size << " bytes)";
  if (length < 0)
    length = size - offset;
  if (length > size - offset)
    return refuse() << "range [" << offset << ", " << offset << " + "
                    << length << ") is outside the file (" << size
                    << " bytes)";
  std::string data(size_t(length), '\0');
  int64_t done = 0;
  while (done < length) {
    ssize_t r = ::pread(fd, data.data() + done, size_t(length - done),
                        off_t(offset + done));
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return refuse() << "read failed after " << done << " bytes";
    done += r;
  }
  return data;
}

/// Strict non-negative decimal (external data offsets and lengths).
std::optional<int64_t> parseSize(llvm::StringRef s) {
  if (s.empty() || s.size() > 18)
    return std::nullopt;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

template <typename T, typename Field>
DenseElementsAttr fromField(RankedTensorType type, const Field &field) {
  llvm::SmallVector<T> values(field.begin(), field.end());
  return DenseElementsAttr::get(type, llvm::ArrayRef<T>(values));
}

} // namespace

FailureOr<DenseElementsAttr> tensorToAttr(const TensorProto &t,
                                          llvm::StringRef modelDir,
                                          Location loc, llvm::StringRef what) {
  MLIRContext *ctx = loc.getContext();
  Type element = elementTypeOf(ctx, t.data_type());
  if (!element)
    return emitError(loc) << what << " has element type "
                          << onnxTypeName(t.data_type())
                          << ", which Kiln does not support";
  if (t.has_segment())
    return emitError(loc) << what << " is segmented, which Kiln does not support";
  llvm::SmallVector<int64_t> dims(t.dims().begin(), t.dims().end());
  auto type = checkedTensorType(loc, dims, element, what);
  if (failed(type))
    return failure();
  int64_t n = type->getNumElements();
  int64_t bytes = n * elementBytes(element);

  std::string external;
  const std::string *raw = nullptr;
  if (t.data_location() == TensorProto::EXTERNAL) {
    std::string location;
    int64_t offset = 0, length = -1;
    for (const auto &kv : t.external_data()) {
      if (kv.key() == "location") {
        location = kv.value();
      } else if (kv.key() == "offset" || kv.key() == "length") {
        auto v = parseSize(kv.value());
        if (!v)
          return emitError(loc) << what << ": external data " << kv.key()
                                << " '" << kv.value()
                                << "' is not a non-negative integer";
        (kv.key() == "offset" ? offset : length) = *v;
      }
    }
    auto data = readExternal(loc, what, modelDir, location, offset, length);
    if (failed(data))
      return failure();
    external = std::move(*data);
    raw = &external;
  } else if (t.has_raw_data()) {
    raw = &t.raw_data();
  }

  if (raw) {
    if (int64_t(raw->size()) != bytes)
      return emitError(loc) << what << " has " << raw->size()
                            << " bytes of data, but its shape ["
                            << llvm::make_range(dims.begin(), dims.end())
                            << "] of " << onnxTypeName(t.data_type())
                            << " needs " << bytes;
    if (element.isInteger(1)) {
      llvm::SmallVector<bool> v;
      v.reserve(n);
      for (char c : *raw)
        v.push_back(c != 0);
      return DenseElementsAttr::get(*type, llvm::ArrayRef<bool>(v));
    }
    if (n == 0)
      return DenseElementsAttr::get(*type, llvm::ArrayRef<Attribute>());
    return DenseElementsAttr::getFromRawBuffer(
        *type, llvm::ArrayRef<char>(raw->data(), raw->size()));
  }

  // Typed fields: the count must match the element count.
  auto count = [&](int64_t got) -> LogicalResult {
    if (got == n)
      return success();
    return emitError(loc) << what << " has " << got
                          << " values, but its shape ["
                          << llvm::make_range(dims.begin(), dims.end())
                          << "] needs " << n;
  };
  switch (t.data_type()) {
  case TensorProto::FLOAT:
    if (failed(count(t.float_data_size())))
      return failure();
    return fromField<float>(*type, t.float_data());
  case TensorProto::DOUBLE:
    if (failed(count(t.double_data_size())))
      return failure();
    return fromField<double>(*type, t.double_data());
  case TensorProto::INT64:
    if (failed(count(t.int64_data_size())))
      return failure();
    return fromField<int64_t>(*type, t.int64_data());
  case TensorProto::INT32:
    if (failed(count(t.int32_data_size())))
      return failure();
    return fromField<int32_t>(*type, t.int32_data());
  case TensorProto::INT8: {
    if (failed(count(t.int32_data_size())))
      return failure();
    return fromField<int8_t>(*type, t.int32_data());
  }
  case TensorProto::BOOL: {
    if (failed(count(t.int32_data_size())))
      return failure();
    llvm::SmallVector<bool> v;
    for (int32_t x : t.int32_data())
      v.push_back(x != 0);
    return DenseElementsAttr::get(*type, llvm::ArrayRef<bool>(v));
  }
  case TensorProto::FLOAT16:
  case TensorProto::BFLOAT16: {
    // Stored as the 16-bit patterns in int32_data.
    if (failed(count(t.int32_data_size())))
      return failure();
    std::string buf;
    buf.reserve(n * 2);
    for (int32_t x : t.int32_data()) {
      buf.push_back(char(x & 0xff));
      buf.push_back(char((x >> 8) & 0xff));
    }
    if (n == 0)
      return DenseElementsAttr::get(*type, llvm::ArrayRef<Attribute>());
    return DenseElementsAttr::getFromRawBuffer(
        *type, llvm::ArrayRef<char>(buf.data(), buf.size()));
  }
  default:
    return emitError(loc) << what << " has no data Kiln can read";
  }
}

} // namespace mlir::kiln::onnx
