# Finds Debian's LLVM/MLIR 19 and makes its CMake helpers available.
# Only included when KILN_BUILD_COMPILER is ON: the runtime never sees this.
if(NOT MLIR_DIR AND EXISTS /usr/lib/llvm-19/lib/cmake/mlir)
  set(MLIR_DIR /usr/lib/llvm-19/lib/cmake/mlir)
endif()
find_package(MLIR REQUIRED CONFIG)
if(NOT LLVM_VERSION_MAJOR EQUAL 19)
  message(FATAL_ERROR "Kiln needs LLVM/MLIR 19 (found ${LLVM_PACKAGE_VERSION} in ${MLIR_DIR}); run scripts/setup.sh")
endif()
list(APPEND CMAKE_MODULE_PATH "${MLIR_CMAKE_DIR}" "${LLVM_CMAKE_DIR}")
include(TableGen)
include(AddLLVM)
include(AddMLIR)

# MLIR/LLVM are built without exceptions; our MLIR-facing code follows suit.
# (Runtime targets are never given these flags.)
set(KILN_MLIR_COMPILE_OPTIONS -fno-exceptions)
set(KILN_MLIR_INCLUDE_DIRS ${LLVM_INCLUDE_DIRS} ${MLIR_INCLUDE_DIRS})
message(STATUS "Kiln: LLVM/MLIR ${LLVM_PACKAGE_VERSION} from ${MLIR_DIR}")

set(KILN_LIT "/usr/lib/llvm-19/build/utils/lit/lit.py")
set(KILN_FILECHECK_DIR "${LLVM_TOOLS_BINARY_DIR}")
