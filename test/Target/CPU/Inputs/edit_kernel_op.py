"""Breaks one thing about the first cpu_kernel op of a .kiln file in JSON
form (flatc --json): its outer range, its first operand's shape, or its
symbol. usage: edit_kernel_op.py IN.json OUT.json outer|shape|symbol"""
import json
import sys

src, dst, what = sys.argv[1:]
module = json.load(open(src))
fn = module["functions"][0]
op = next(o for o in fn["ops"] if o["name"] == "cpu_kernel")
attrs = {a["name"]: a for a in op["attrs"]}
if what == "outer":
    attrs["outer"]["int_value"] = attrs["outer"].get("int_value", 0) + 1
elif what == "shape":
    fn["values"][op["operands"][0]]["type"]["shape"] = [2, 16]
else:
    attrs["symbol"]["string_value"] = "kiln_kernel_9"
json.dump(module, open(dst, "w"))
