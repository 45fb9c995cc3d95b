//===- Safetensors.cpp - Reading and writing safetensors files -------------===//
//
// The header is JSON, parsed here by a small strict parser that accepts
// exactly the JSON the format needs: one object whose values are tensor
// entries ({"dtype": string, "shape": [uint...], "data_offsets": [uint,
// uint]}) or the "__metadata__" object of strings. It does not recurse, so
// no input can exhaust the stack, and it checks what a general JSON library
// would leave to the caller (duplicate keys, integer overflow, UTF-8).
//
// Reading checks the whole header against the file's size before it
// allocates any tensor, then reads each tensor's bytes straight into it, so
// a load needs the file's size in memory once, not twice.
//
//===----------------------------------------------------------------------===//
#include "kiln/Checkpoint.h"

#include "AtomicFile.h"
#include "kiln/Support/Shapes.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace kiln {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; a big-endian host would "
              "have to swap bytes");

namespace {

constexpr std::string_view kMetadataKey = "__metadata__";

struct DTypeName {
  DType dtype;
  std::string_view name;
};
constexpr DTypeName kDTypeNames[] = {
    {DType::F64, "F64"}, {DType::F32, "F32"}, {DType::F16, "F16"},
    {DType::BF16, "BF16"}, {DType::I64, "I64"}, {DType::I32, "I32"},
    {DType::I8, "I8"},   {DType::Bool, "BOOL"}};

/// Offset of the first byte of `s` that is not part of valid UTF-8 (no
/// overlong forms, no surrogates, nothing above U+10FFFF), or npos.
size_t invalidUtf8At(std::string_view s) {
  static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (s.size() - i < len)
      return i;
    for (size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80)
        return i;
      cp = cp << 6 | (cc & 0x3f);
    }
    if (cp < kMinForLength[len] || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return i;
    i += len;
  }
  return std::string_view::npos;
}

void appendUtf8(std::string &out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xc0 | cp >> 6);
    out += char(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += char(0xe0 | cp >> 12);
    out += char(0x80 | (cp >> 6 & 0x3f));
    out += char(0x80 | (cp & 0x3f));
  } else {
    out += char(0xf0 | cp >> 18);
    out += char(0x80 | (cp >> 12 & 0x3f));
    out += char(0x80 | (cp >> 6 & 0x3f));
    out += char(0x80 | (cp & 0x3f));
  }
}

/// A JSON string literal of valid UTF-8 text.
void appendJsonString(std::string &out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += ch;
    }
  }
  out += '"';
}

/// One tensor as the header describes it.
struct Entry {
  std::string name;
  DType dtype = DType::F32;
  Shape shape;
  uint64_t begin = 0, end = 0;
  uint64_t bytes = 0; // numel * element size, once validated.
};

struct Header {
  std::vector<Entry> entries;
  std::map<std::string, std::string> metadata;
};

/// The strict header parser (see the file comment).
class HeaderParser {
public:
  HeaderParser(std::string_view text, std::string_view file)
      : s_(text), file_(file) {}

  Expected<Header> parse() {
    Header h;
    std::set<std::string, std::less<>> names;
    bool sawMetadata = false;
    skipSpace();
    if (!eat('{'))
      return syntaxError("the header must be a JSON object");
    skipSpace();
    if (!eat('}')) {
      for (;;) {
        skipSpace();
        KILN_ASSIGN_OR_RETURN(std::string key, parseString());
        skipSpace();
        if (!eat(':'))
          return syntaxError("expected ':' after \"" + key + "\"");
        skipSpace();
        if (key == kMetadataKey) {
          if (sawMetadata)
            return dataLoss(file_, ": duplicate \"__metadata__\" entry");
          sawMetadata = true;
          KILN_RETURN_IF_ERROR(parseMetadata(h.metadata));
        } else {
          if (!names.insert(key).second)
            return dataLoss(file_, ": duplicate tensor name '", key, "'");
          KILN_ASSIGN_OR_RETURN(Entry e, parseEntry(std::move(key)));
          h.entries.push_back(std::move(e));
        }
        skipSpace();
        if (eat(','))
          continue;
        if (eat('}'))
          break;
        return syntaxError("expected ',' or '}'");
      }
    }
    skipSpace(); // The writer pads the header with spaces.
    if (pos_ != s_.size())
      return syntaxError("unexpected characters after the header object");
    return h;
  }

private:
  Status syntaxError(const std::string &what) const {
    return dataLoss(file_, ": malformed safetensors header at byte ", pos_,
                    ": ", what);
  }
  Status entryError(std::string_view name, const std::string &what) const {
    return dataLoss(file_, ": tensor '", name, "': ", what);
  }

  void skipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' ||
                                s_[pos_] == '\n' || s_[pos_] == '\r'))
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
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }

  Expected<uint32_t> parseHex4() {
    if (s_.size() - pos_ < 4)
      return syntaxError("truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= uint32_t(c - '0');
      else if (c >= 'a' && c <= 'f')
        v |= uint32_t(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        v |= uint32_t(c - 'A' + 10);
      else
        return syntaxError("bad hex digit in a \\u escape");
    }
    return v;
  }

  /// A JSON string; the text is already known to be valid UTF-8.
  Expected<std::string> parseString() {
    if (!eat('"'))
      return syntaxError("expected a string");
    std::string out;
    for (;;) {
      if (pos_ >= s_.size())
        return syntaxError("unterminated string");
      char c = s_[pos_++];
      if (c == '"')
        return out;
      if (static_cast<unsigned char>(c) < 0x20)
        return syntaxError("unescaped control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size())
        return syntaxError("unterminated escape");
      switch (char e = s_[pos_++]) {
      case '"':
      case '\\':
      case '/':
        out += e;
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        KILN_ASSIGN_OR_RETURN(uint32_t cp, parseHex4());
        if (cp >= 0xdc00 && cp <= 0xdfff)
          return syntaxError("lone low surrogate in a \\u escape");
        if (cp >= 0xd800 && cp <= 0xdbff) {
          if (!take("\\u"))
            return syntaxError("high surrogate without its low half");
          KILN_ASSIGN_OR_RETURN(uint32_t low, parseHex4());
          if (low < 0xdc00 || low > 0xdfff)
            return syntaxError("high surrogate without its low half");
          cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        }
        appendUtf8(out, cp);
        break;
      }
      default:
        return syntaxError(std::string("unknown escape '\\") + e + "'");
      }
    }
  }

  Status parseMetadata(std::map<std::string, std::string> &metadata) {
    if (take("null"))
      return Status();
    if (!eat('{'))
      return syntaxError("\"__metadata__\" must be an object of strings");
    skipSpace();
    if (eat('}'))
      return Status();
    for (;;) {
      skipSpace();
      KILN_ASSIGN_OR_RETURN(std::string key, parseString());
      skipSpace();
      if (!eat(':'))
        return syntaxError("expected ':' after \"" + key + "\"");
      skipSpace();
      if (peek() != '"')
        return dataLoss(file_, ": metadata value of '", key,
                        "' is not a string");
      KILN_ASSIGN_OR_RETURN(std::string value, parseString());
      if (!metadata.emplace(key, std::move(value)).second)
        return dataLoss(file_, ": duplicate metadata key '", key, "'");
      skipSpace();
      if (eat(','))
        continue;
      if (eat('}'))
        return Status();
      return syntaxError("expected ',' or '}' in \"__metadata__\"");
    }
  }

  /// A non-negative JSON integer.
  Expected<uint64_t> parseUnsigned(std::string_view name,
                                   std::string_view field) {
    if (peek() == '-')
      return entryError(name, strCat("'", field, "' holds a negative number"));
    size_t start = pos_;
    uint64_t v = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      auto d = uint64_t(s_[pos_] - '0');
      if (v > (UINT64_MAX - d) / 10)
        return entryError(name, strCat("a number in '", field,
                                       "' does not fit in 64 bits"));
      v = v * 10 + d;
      ++pos_;
    }
    if (pos_ == start)
      return entryError(name, strCat("'", field, "' must hold integers"));
    if (pos_ - start > 1 && s_[start] == '0')
      return syntaxError("a number with a leading zero");
    char c = peek();
    if (c == '.' || c == 'e' || c == 'E')
      return entryError(name,
                        strCat("'", field, "' must hold integers, not ",
                               "fractions or exponents"));
    return v;
  }

  /// `[n, n, ...]` with at most `maxItems` items.
  Expected<std::vector<uint64_t>> parseArray(std::string_view name,
                                             std::string_view field,
                                             size_t maxItems) {
    if (!eat('['))
      return entryError(name, strCat("'", field, "' must be an array"));
    std::vector<uint64_t> items;
    skipSpace();
    if (eat(']'))
      return items;
    for (;;) {
      skipSpace();
      if (items.size() == maxItems)
        return entryError(name, strCat("'", field, "' has more than ",
                                       maxItems, " items"));
      KILN_ASSIGN_OR_RETURN(uint64_t v, parseUnsigned(name, field));
      items.push_back(v);
      skipSpace();
      if (eat(','))
        continue;
      if (eat(']'))
        return items;
      return syntaxError(strCat("expected ',' or ']' in '", field, "'"));
    }
  }

  Expected<Entry> parseEntry(std::string name) {
    if (!eat('{'))
      return entryError(name, "expected an object with 'dtype', 'shape' "
                              "and 'data_offsets'");
    Entry e;
    bool sawDType = false, sawShape = false, sawOffsets = false;
    skipSpace();
    if (!eat('}')) {
      for (;;) {
        skipSpace();
        KILN_ASSIGN_OR_RETURN(std::string key, parseString());
        skipSpace();
        if (!eat(':'))
          return syntaxError("expected ':' after \"" + key + "\"");
        skipSpace();
        auto once = [&](bool &saw) -> Status {
          if (saw)
            return entryError(name, "duplicate key '" + key + "'");
          saw = true;
          return Status();
        };
        if (key == "dtype") {
          KILN_RETURN_IF_ERROR(once(sawDType));
          if (peek() != '"')
            return entryError(name, "'dtype' must be a string");
          KILN_ASSIGN_OR_RETURN(std::string dtype, parseString());
          auto parsed = parseSafetensorsDType(dtype);
          if (!parsed)
            return invalidArgument(file_, ": tensor '", name, "': ",
                                   parsed.status().message());
          e.dtype = *parsed;
        } else if (key == "shape") {
          KILN_RETURN_IF_ERROR(once(sawShape));
          KILN_ASSIGN_OR_RETURN(std::vector<uint64_t> dims,
                                parseArray(name, "shape", size_t(kMaxRank)));
          for (uint64_t d : dims) {
            if (d > uint64_t(INT64_MAX))
              return entryError(name, strCat("dimension ", d,
                                             " does not fit in int64"));
            e.shape.push_back(int64_t(d));
          }
        } else if (key == "data_offsets") {
          KILN_RETURN_IF_ERROR(once(sawOffsets));
          KILN_ASSIGN_OR_RETURN(std::vector<uint64_t> offsets,
                                parseArray(name, "data_offsets", 2));
          if (offsets.size() != 2)
            return entryError(name, "'data_offsets' must be [begin, end]");
          e.begin = offsets[0];
          e.end = offsets[1];
        } else {
          return entryError(name, "unknown key '" + key + "'");
        }
        skipSpace();
        if (eat(','))
          continue;
        if (eat('}'))
          break;
        return syntaxError("expected ',' or '}' in the entry of '" + name +
                           "'");
      }
    }
    if (!sawDType || !sawShape || !sawOffsets)
      return entryError(name, strCat("lacks ", !sawDType ? "'dtype'"
                                               : !sawShape ? "'shape'"
                                                           : "'data_offsets'"));
    e.name = std::move(name);
    return e;
  }

  std::string_view s_;
  std::string_view file_;
  size_t pos_ = 0;
};

/// Checks that the entries tile [0, dataBytes) exactly, each with the size
/// its shape and dtype need. Sorts the entries by name.
Status validateLayout(std::vector<Entry> &entries, uint64_t dataBytes,
                      std::string_view file) {
  std::sort(entries.begin(), entries.end(),
            [](const Entry &a, const Entry &b) { return a.name < b.name; });
  for (Entry &e : entries) {
    auto fail = [&](const auto &...what) {
      return dataLoss(file, ": tensor '", e.name, "': ", what...);
    };
    std::optional<int64_t> numel = shapes::numElements(e.shape);
    // The strides of a shape with a zero dim can overflow even though it
    // has no elements ([0, 2^62, 4]): the dims other than zeros must
    // multiply within int64 too.
    Shape nonZero = e.shape;
    std::replace(nonZero.begin(), nonZero.end(), int64_t(0), int64_t(1));
    uint64_t es = sizeOf(e.dtype);
    if (!numel || !shapes::numElements(nonZero) ||
        uint64_t(*numel) > UINT64_MAX / es)
      return fail("shape ", shapes::toString(e.shape), " of ",
                  safetensorsDTypeName(e.dtype), " overflows");
    e.bytes = uint64_t(*numel) * es;
    if (e.end < e.begin)
      return fail("data_offsets [", e.begin, ", ", e.end,
                  "] end before they begin");
    if (e.end > dataBytes)
      return fail("data_offsets [", e.begin, ", ", e.end,
                  "] run past the end of the data buffer (", dataBytes,
                  " bytes)");
    if (e.end - e.begin != e.bytes)
      return fail("data_offsets [", e.begin, ", ", e.end, "] hold ",
                  e.end - e.begin, " bytes but ",
                  safetensorsDTypeName(e.dtype), " ",
                  shapes::toString(e.shape), " needs ", e.bytes);
  }
  std::vector<const Entry *> byOffset;
  for (const Entry &e : entries)
    byOffset.push_back(&e);
  std::sort(byOffset.begin(), byOffset.end(),
            [](const Entry *a, const Entry *b) {
              return std::pair(a->begin, a->end) < std::pair(b->begin, b->end);
            });
  uint64_t covered = 0;
  const Entry *previous = nullptr;
  for (const Entry *e : byOffset) {
    if (e->begin < covered)
      return dataLoss(file, ": tensor '", e->name, "': data_offsets [",
                      e->begin, ", ", e->end, "] overlap tensor '",
                      previous->name, "' at [", previous->begin, ", ",
                      previous->end, "]");
    if (e->begin > covered)
      return dataLoss(file, ": bytes [", covered, ", ", e->begin,
                      ") of the data buffer, before tensor '", e->name,
                      "', belong to no tensor");
    covered = e->end;
    previous = e;
  }
  if (covered != dataBytes)
    return dataLoss(file, ": bytes [", covered, ", ", dataBytes,
                    ") at the end of the data buffer belong to no tensor");
  return Status();
}

/// Reads `bytes` bytes at `offset` of the file or image into `dst`.
using ReadAt = std::function<Status(uint64_t offset, void *dst, size_t bytes)>;

Expected<SafetensorsFile> parseFrom(uint64_t totalBytes, const ReadAt &readAt,
                                 std::string_view file) {
  if (totalBytes < 8)
    return dataLoss(file, ": truncated safetensors file: ", totalBytes,
                    " bytes, less than the 8-byte header length");
  uint8_t prefix[8];
  KILN_RETURN_IF_ERROR(readAt(0, prefix, 8));
  uint64_t headerBytes = 0;
  for (int i = 7; i >= 0; --i)
    headerBytes = headerBytes << 8 | prefix[i];
  if (headerBytes > kMaxSafetensorsHeaderBytes)
    return dataLoss(file, ": safetensors header of ", headerBytes,
                    " bytes exceeds the limit of ", kMaxSafetensorsHeaderBytes);
  if (headerBytes > totalBytes - 8)
    return dataLoss(file, ": truncated safetensors file: the header declares ",
                    headerBytes, " bytes, only ", totalBytes - 8, " follow");
  std::string text(size_t(headerBytes), '\0');
  KILN_RETURN_IF_ERROR(readAt(8, text.data(), text.size()));
  if (size_t bad = invalidUtf8At(text); bad != std::string_view::npos)
    return dataLoss(file, ": safetensors header is not valid UTF-8 (byte ",
                    bad, ")");
  KILN_ASSIGN_OR_RETURN(Header h, HeaderParser(text, file).parse());
  uint64_t dataStart = 8 + headerBytes;
  KILN_RETURN_IF_ERROR(validateLayout(h.entries, totalBytes - dataStart, file));

  SafetensorsFile out;
  out.metadata = std::move(h.metadata);
  out.tensors.reserve(h.entries.size());
  for (Entry &e : h.entries) {
    auto t = Tensor::empty(e.shape, e.dtype);
    if (!t)
      return t.takeStatus().withContext(
          strCat(file, ": tensor '", e.name, "'"));
    if (e.bytes) {
      KILN_RETURN_IF_ERROR(readAt(dataStart + e.begin, t->rawData(),
                                  size_t(e.bytes)));
      if (e.dtype == DType::Bool) { // Only 0 and 1 are valid bool bytes.
        auto *p = static_cast<uint8_t *>(t->rawData());
        for (uint64_t i = 0; i < e.bytes; ++i)
          p[i] = p[i] != 0;
      }
    }
    out.tensors.emplace_back(std::move(e.name), std::move(*t));
  }
  return out;
}

/// Receives the encoded bytes in order.
using Sink = std::function<Status(const void *data, size_t bytes)>;

/// A contiguous host copy of `t` (or `t` itself when it already is one).
Expected<Tensor> hostContiguous(const Tensor &t) {
  if (t.device().isHostAccessible())
    return t.contiguous();
  if (!t.isContiguous())
    return unavailable("tensors on ", t.device().name(),
                       " must be contiguous to be saved");
  KILN_ASSIGN_OR_RETURN(Tensor host, Tensor::empty(t.shape(), t.dtype()));
  size_t bytes = size_t(t.numel()) * t.elementSize();
  if (bytes)
    KILN_RETURN_IF_ERROR(t.device().copyToHost(
        host.rawData(),
        static_cast<const char *>(t.storage()->data()) +
            t.storageOffset() * int64_t(t.elementSize()),
        bytes));
  return host;
}

Status encodeTo(const NamedTensorList &tensors,
                const std::map<std::string, std::string> &metadata,
                const Sink &sink) {
  std::set<std::string_view> names;
  for (const auto &[key, value] : metadata) {
    if (invalidUtf8At(key) != std::string_view::npos ||
        invalidUtf8At(value) != std::string_view::npos)
      return invalidArgument("metadata key '", key,
                             "' or its value is not valid UTF-8");
  }
  std::string json = "{";
  if (!metadata.empty()) {
    appendJsonString(json, kMetadataKey);
    json += ":{";
    bool first = true;
    for (const auto &[key, value] : metadata) {
      if (!first)
        json += ',';
      first = false;
      appendJsonString(json, key);
      json += ':';
      appendJsonString(json, value);
    }
    json += '}';
  }
  uint64_t offset = 0;
  for (const auto &[name, t] : tensors) {
    if (name == kMetadataKey)
      return invalidArgument("a tensor cannot be called \"__metadata__\"");
    if (invalidUtf8At(name) != std::string_view::npos)
      return invalidArgument("tensor name '", name, "' is not valid UTF-8");
    if (!names.insert(name).second)
      return invalidArgument("duplicate tensor name '", name, "'");
    if (!t.defined())
      return invalidArgument("tensor '", name, "' is undefined");
    if (json.size() > 1)
      json += ',';
    appendJsonString(json, name);
    json += strCat(":{\"dtype\":\"", safetensorsDTypeName(t.dtype()),
                   "\",\"shape\":[");
    for (size_t d = 0; d < t.shape().size(); ++d)
      json += strCat(d ? "," : "", t.shape()[d]);
    uint64_t bytes = uint64_t(t.numel()) * t.elementSize();
    json += strCat("],\"data_offsets\":[", offset, ",", offset + bytes, "]}");
    offset += bytes;
  }
  json += '}';
  // Pad with spaces so that the data start 8-byte aligned, as the reference
  // writer does (readers may then map the data in place).
  json.append((8 - json.size() % 8) % 8, ' ');
  if (json.size() > kMaxSafetensorsHeaderBytes)
    return invalidArgument("safetensors header of ", json.size(),
                           " bytes exceeds the limit of ",
                           kMaxSafetensorsHeaderBytes);
  uint8_t prefix[8];
  for (int i = 0; i < 8; ++i)
    prefix[i] = uint8_t(uint64_t(json.size()) >> (8 * i));
  KILN_RETURN_IF_ERROR(sink(prefix, 8));
  KILN_RETURN_IF_ERROR(sink(json.data(), json.size()));
  for (const auto &[name, t] : tensors) {
    size_t bytes = size_t(t.numel()) * t.elementSize();
    if (!bytes)
      continue;
    auto host = hostContiguous(t);
    if (!host)
      return host.takeStatus().withContext(strCat("tensor '", name, "'"));
    KILN_RETURN_IF_ERROR(sink(host->rawData(), bytes));
  }
  return Status();
}

} // namespace

const Tensor *SafetensorsFile::find(std::string_view name) const {
  auto it = std::lower_bound(
      tensors.begin(), tensors.end(), name,
      [](const auto &entry, std::string_view n) { return entry.first < n; });
  if (it == tensors.end() || it->first != name)
    return nullptr;
  return &it->second;
}

std::string_view safetensorsDTypeName(DType t) {
  for (const DTypeName &row : kDTypeNames)
    if (row.dtype == t)
      return row.name;
  return "?";
}

Expected<DType> parseSafetensorsDType(std::string_view name) {
  for (const DTypeName &row : kDTypeNames)
    if (row.name == name)
      return row.dtype;
  return invalidArgument("unsupported dtype '", name,
                         "' (Kiln reads F64 F32 F16 BF16 I64 I32 I8 BOOL)");
}

Expected<std::vector<uint8_t>>
encodeSafetensors(const NamedTensorList &tensors,
                  const std::map<std::string, std::string> &metadata) {
  std::vector<uint8_t> out;
  KILN_RETURN_IF_ERROR(
      encodeTo(tensors, metadata, [&](const void *data, size_t bytes) {
        auto *p = static_cast<const uint8_t *>(data);
        out.insert(out.end(), p, p + bytes);
        return Status();
      }));
  return out;
}

Expected<SafetensorsFile> parseSafetensors(std::span<const uint8_t> bytes,
                                        std::string_view name) {
  return parseFrom(
      bytes.size(),
      [&](uint64_t offset, void *dst, size_t n) {
        // parseFrom reads only ranges it has checked against the size.
        std::memcpy(dst, bytes.data() + offset, n);
        return Status();
      },
      name);
}

Status saveSafetensors(const std::string &path, const NamedTensorList &tensors,
                       const std::map<std::string, std::string> &metadata) {
  return checkpoint::writeFileAtomically(
      path, [&](checkpoint::FdWriter &writer) {
        return encodeTo(tensors, metadata,
                        [&](const void *data, size_t bytes) {
                          return writer.write(data, bytes);
                        });
      });
}

Expected<SafetensorsFile> loadSafetensors(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return Status(errno == ENOENT ? StatusCode::NotFound : StatusCode::IoError,
                  strCat("cannot open '", path, "': ", std::strerror(errno)));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    Status s = ioError("cannot stat '", path, "': ", std::strerror(errno));
    ::close(fd);
    return s;
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return ioError("'", path, "' is not a regular file");
  }
  auto readAt = [&](uint64_t offset, void *dst, size_t n) -> Status {
    auto *p = static_cast<char *>(dst);
    while (n > 0) {
      ssize_t got = ::pread(fd, p, n, off_t(offset));
      if (got < 0 && errno == EINTR)
        continue;
      if (got < 0)
        return ioError("error reading '", path, "': ", std::strerror(errno));
      if (got == 0)
        return dataLoss(path, ": the file shrank while it was read");
      p += got;
      n -= size_t(got);
      offset += uint64_t(got);
    }
    return Status();
  };
  auto result = parseFrom(uint64_t(st.st_size), readAt, path);
  ::close(fd);
  return result;
}

} // namespace kiln
