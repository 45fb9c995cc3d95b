# lit configuration for Kiln's graph-level tests (test/**/*.mlir).
import os
import lit.formats

config.name = "Kiln"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.join(config.kiln_src_root, "test")
config.test_exec_root = os.path.join(config.kiln_obj_root, "test", "lit")
config.excludes = ["unit", "lit", "Inputs", "CMakeLists.txt", "lit.cfg.py"]

# Tools come from the build tree first, then LLVM's (FileCheck, not).
path = os.pathsep.join([config.kiln_tools_dir, config.llvm_tools_dir,
                        config.environment.get("PATH", os.environ["PATH"])])
config.environment["PATH"] = path
config.substitutions.append(("%kiln_src_root", config.kiln_src_root))
# Sanitizer reports fail the test instead of scrolling past.
config.environment["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0"
config.environment["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
if config.kiln_sanitize:
    config.available_features.add("sanitized")
