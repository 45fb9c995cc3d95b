# Compiler launcher, linker and sanitizers shared by every Kiln target.
include(CheckLinkerFlag)

find_program(KILN_CCACHE ccache)
if(KILN_CCACHE)
  set(CMAKE_C_COMPILER_LAUNCHER "${KILN_CCACHE}")
  set(CMAKE_CXX_COMPILER_LAUNCHER "${KILN_CCACHE}")
endif()

check_linker_flag(CXX "-fuse-ld=lld" KILN_HAVE_LLD)
if(KILN_HAVE_LLD)
  add_link_options("-fuse-ld=lld")
endif()

add_compile_options(-Wall -Wextra -Wno-unused-parameter)

if(KILN_SANITIZE)
  add_compile_options("-fsanitize=${KILN_SANITIZE}" -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options("-fsanitize=${KILN_SANITIZE}")
endif()
