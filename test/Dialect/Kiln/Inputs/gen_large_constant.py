"""Writes a function that negates a non-splat f32 constant of N elements.

Used by fold-limits.test: the constant is written in hex so the file stays
a single line per constant. Element i holds the value i (never a splat).
"""
import struct
import sys

n = int(sys.argv[1])
data = b"".join(struct.pack("<f", float(i)) for i in range(n))
print("func.func @neg_%d() -> tensor<%dxf32> {" % (n, n))
print('  %%c = kiln.constant dense<"0x%s"> : tensor<%dxf32>' % (data.hex().upper(), n))
print("  %%0 = kiln.neg %%c : tensor<%dxf32>" % n)
print("  return %%0 : tensor<%dxf32>" % n)
print("}")
