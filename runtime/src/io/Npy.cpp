//===- Npy.cpp - Reading and writing .npy files ----------------------------===//
#include "kiln/Npy.h"

#include "kiln/Support/Shapes.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>

namespace kiln {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;

struct NpyHeader {
  std::string descr;
  bool fortranOrder = false;
  Shape shape;
  bool sawDescr = false, sawOrder = false, sawShape = false;
};

/// A parser for the small subset of Python literals that .npy headers use:
/// a dict with string keys whose values are strings, True/False, or tuples
/// of non-negative integers.
class HeaderParser {
public:
  HeaderParser(std::string_view text, std::string_view name)
      : s_(text), name_(name) {}

  Expected<NpyHeader> parse() {
    NpyHeader h;
    skipSpace();
    if (!eat('{'))
      return error("expected '{'");
    for (;;) {
      skipSpace();
      if (eat('}'))
        break;
      KILN_ASSIGN_OR_RETURN(std::string key, parseString());
      skipSpace();
      if (!eat(':'))
        return error("expected ':' after key '" + key + "'");
      skipSpace();
      if (key == "descr") {
        KILN_ASSIGN_OR_RETURN(h.descr, parseString());
        h.sawDescr = true;
      } else if (key == "fortran_order") {
        if (take("True"))
          h.fortranOrder = true;
        else if (take("False"))
          h.fortranOrder = false;
        else
          return error("fortran_order must be True or False");
        h.sawOrder = true;
      } else if (key == "shape") {
        KILN_ASSIGN_OR_RETURN(h.shape, parseTuple());
        h.sawShape = true;
      } else {
        return error("unexpected key '" + key + "'");
      }
      skipSpace();
      if (eat(','))
        continue;
      skipSpace();
      if (eat('}'))
        break;
      return error("expected ',' or '}'");
    }
    skipSpace();
    if (pos_ != s_.size())
      return error("trailing characters after the header dict");
    if (!h.sawDescr || !h.sawOrder || !h.sawShape)
      return error("header lacks one of 'descr', 'fortran_order', 'shape'");
    return h;
  }

private:
  Status error(const std::string &what) const {
    return dataLoss(name_, ": malformed .npy header at offset ", pos_, ": ",
                    what);
  }
  void skipSpace() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_])))
      ++pos_;
  }
  bool eat(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool take(std::string_view word) {
    if (s_.substr(pos_, word.size()) == word) {
      pos_ += word.size();
      return true;
    }
    return false;
  }
  Expected<std::string> parseString() {
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"'))
      return error("expected a quoted string");
    char q = s_[pos_++];
    size_t end = s_.find(q, pos_);
    if (end == std::string_view::npos)
      return error("unterminated string");
    std::string out(s_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return out;
  }
  Expected<Shape> parseTuple() {
    if (!eat('('))
      return error("shape must be a tuple");
    Shape shape;
    for (;;) {
      skipSpace();
      if (eat(')'))
        return shape;
      size_t start = pos_;
      uint64_t v = 0;
      while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
        v = v * 10 + uint64_t(s_[pos_] - '0');
        if (v > uint64_t(INT64_MAX))
          return error("dimension too large");
        ++pos_;
      }
      if (pos_ == start)
        return error("expected a non-negative integer dimension");
      if (shape.size() >= size_t(kMaxRank))
        return error("shape has more than " + std::to_string(kMaxRank) +
                     " dimensions");
      shape.push_back(int64_t(v));
      skipSpace();
      if (eat(','))
        continue;
      skipSpace();
      if (eat(')'))
        return shape;
      return error("expected ',' or ')' in shape");
    }
  }

  std::string_view s_;
  std::string_view name_;
  size_t pos_ = 0;
};

struct DescrInfo {
  DType dtype;
  bool swap; // Big-endian data on this little-endian host.
};

std::optional<DescrInfo> parseDescr(std::string_view d) {
  if (d.size() < 3)
    return std::nullopt;
  char order = d[0];
  std::string_view kind = d.substr(1);
  static const struct {
    std::string_view code;
    DType dtype;
  } table[] = {{"f8", DType::F64}, {"f4", DType::F32}, {"f2", DType::F16},
               {"i8", DType::I64}, {"i4", DType::I32}, {"i1", DType::I8},
               {"b1", DType::Bool}};
  for (auto &row : table) {
    if (row.code != kind)
      continue;
    bool oneByte = sizeOf(row.dtype) == 1;
    if (order == '|' || order == '<' || order == '=')
      return DescrInfo{row.dtype, false};
    if (order == '>')
      return DescrInfo{row.dtype, !oneByte};
  }
  return std::nullopt;
}

const char *descrFor(DType t) {
  switch (t) {
  case DType::F64:
    return "<f8";
  case DType::F32:
    return "<f4";
  case DType::F16:
    return "<f2";
  case DType::I64:
    return "<i8";
  case DType::I32:
    return "<i4";
  case DType::I8:
    return "|i1";
  case DType::Bool:
    return "|b1";
  case DType::BF16:
    return nullptr;
  }
  return nullptr;
}

} // namespace

Expected<Tensor> parseNpy(std::span<const uint8_t> bytes, std::string_view name) {
  if (bytes.size() < kMagicLen + 2 ||
      std::memcmp(bytes.data(), kMagic, kMagicLen) != 0)
    return dataLoss(name, ": not a .npy file (bad magic)");
  uint8_t major = bytes[6];
  size_t headerLen = 0, prefix = 0;
  if (major == 1) {
    if (bytes.size() < 10)
      return dataLoss(name, ": truncated .npy preamble");
    headerLen = size_t(bytes[8]) | size_t(bytes[9]) << 8;
    prefix = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12)
      return dataLoss(name, ": truncated .npy preamble");
    headerLen = size_t(bytes[8]) | size_t(bytes[9]) << 8 |
                size_t(bytes[10]) << 16 | size_t(bytes[11]) << 24;
    prefix = 12;
  } else {
    return dataLoss(name, ": unsupported .npy format version ", int(major), ".",
                    int(bytes[7]));
  }
  if (headerLen > kMaxNpyHeaderBytes)
    return dataLoss(name, ": .npy header of ", headerLen,
                    " bytes exceeds the limit of ", kMaxNpyHeaderBytes);
  if (bytes.size() - prefix < headerLen)
    return dataLoss(name, ": truncated .npy header (declares ", headerLen,
                    " bytes, file has ", bytes.size() - prefix, ")");
  std::string_view text(reinterpret_cast<const char *>(bytes.data() + prefix),
                        headerLen);
  KILN_ASSIGN_OR_RETURN(NpyHeader h, HeaderParser(text, name).parse());
  auto info = parseDescr(h.descr);
  if (!info)
    return invalidArgument(name, ": unsupported .npy dtype '", h.descr,
                           "' (supported: f8 f4 f2 i8 i4 i1 b1)");
  auto numel = shapes::numElements(h.shape);
  size_t es = sizeOf(info->dtype);
  size_t available = bytes.size() - prefix - headerLen;
  // Check the declared size against the bytes present before allocating
  // anything: a hostile header can declare petabytes.
  if (!numel || uint64_t(*numel) > uint64_t(SIZE_MAX) / es)
    return dataLoss(name, ": declared shape ", shapes::toString(h.shape),
                    " overflows");
  size_t expected = size_t(*numel) * es;
  if (available != expected)
    return dataLoss(name, ": shape ", shapes::toString(h.shape), " of ",
                    dtypeName(info->dtype), " needs ", expected,
                    " data bytes, file has ", available);
  // Fortran order: the data is the C-order image of the reversed shape.
  Shape storedShape = h.shape;
  if (h.fortranOrder)
    std::reverse(storedShape.begin(), storedShape.end());
  KILN_ASSIGN_OR_RETURN(Tensor t, Tensor::empty(storedShape, info->dtype));
  uint8_t *dst = static_cast<uint8_t *>(t.rawData());
  const uint8_t *src = bytes.data() + prefix + headerLen;
  if (expected)
    std::memcpy(dst, src, expected);
  if (info->swap)
    for (size_t i = 0; i < expected; i += es)
      std::reverse(dst + i, dst + i + es);
  if (info->dtype == DType::Bool) // Only 0 and 1 are valid bool bytes.
    for (size_t i = 0; i < expected; ++i)
      dst[i] = dst[i] != 0;
  if (!h.fortranOrder)
    return t;
  std::vector<int64_t> perm(storedShape.size());
  for (size_t i = 0; i < perm.size(); ++i)
    perm[i] = int64_t(perm.size() - 1 - i);
  KILN_ASSIGN_OR_RETURN(Tensor view, t.permute(perm));
  return view.contiguous();
}

Expected<Tensor> readNpy(const std::string &path) {
  std::FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    return ioError("cannot open '", path, "': ", std::strerror(errno));
  std::vector<uint8_t> bytes;
  uint8_t buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
    bytes.insert(bytes.end(), buf, buf + n);
  bool failed = std::ferror(f);
  std::fclose(f);
  if (failed)
    return ioError("error reading '", path, "'");
  return parseNpy(bytes, path);
}

Expected<std::vector<uint8_t>> encodeNpy(const Tensor &t) {
  if (!t.defined())
    return invalidArgument("encodeNpy: undefined tensor");
  const char *descr = descrFor(t.dtype());
  if (!descr)
    return invalidArgument("encodeNpy: ", dtypeName(t.dtype()),
                           " has no .npy dtype; convert to f32 first");
  KILN_ASSIGN_OR_RETURN(Tensor c, t.contiguous());
  std::string shape = "(";
  for (size_t i = 0; i < c.shape().size(); ++i)
    shape += std::to_string(c.shape()[i]) + (c.shape().size() == 1 ? "," : (i + 1 < c.shape().size() ? ", " : ""));
  shape += ")";
  std::string header = strCat("{'descr': '", descr,
                              "', 'fortran_order': False, 'shape': ", shape,
                              ", }");
  // Pad with spaces so that the data starts 64-byte aligned; end with '\n'.
  size_t total = kMagicLen + 4 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  if (header.size() > 65535)
    return invalidArgument("encodeNpy: header too long");
  size_t dataBytes = size_t(c.numel()) * c.elementSize();
  std::vector<uint8_t> out;
  out.reserve(kMagicLen + 4 + header.size() + dataBytes);
  out.insert(out.end(), kMagic, kMagic + kMagicLen);
  out.push_back(1);
  out.push_back(0);
  out.push_back(uint8_t(header.size() & 0xff));
  out.push_back(uint8_t(header.size() >> 8));
  out.insert(out.end(), header.begin(), header.end());
  const uint8_t *data = static_cast<const uint8_t *>(c.rawData());
  if (dataBytes)
    out.insert(out.end(), data, data + dataBytes);
  return out;
}

Status writeNpy(const std::string &path, const Tensor &t) {
  KILN_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, encodeNpy(t));
  std::FILE *f = std::fopen(path.c_str(), "wb");
  if (!f)
    return ioError("cannot create '", path, "': ", std::strerror(errno));
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  ok = (std::fclose(f) == 0) && ok;
  if (!ok)
    return ioError("error writing '", path, "'");
  return Status();
}

} // namespace kiln
