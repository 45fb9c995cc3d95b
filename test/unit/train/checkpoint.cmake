# Checkpoints (issue 4): safetensors files, atomic writes, interop.
kiln_add_unittest(KilnCheckpointTests
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/CheckpointTest.cpp
          ${CMAKE_CURRENT_SOURCE_DIR}/SafetensorsHostileTest.cpp
          ${CMAKE_CURRENT_SOURCE_DIR}/CheckpointResumeTest.cpp
  LIBS KilnRuntime)

# The multi-process checks: kill -9 during saves, and PyTorch interop.
add_executable(kiln-checkpoint-tool ${CMAKE_CURRENT_SOURCE_DIR}/CheckpointTool.cpp)
target_link_libraries(kiln-checkpoint-tool PRIVATE KilnRuntime)

add_test(NAME checkpoint-kill-during-save
  COMMAND kiln-checkpoint-tool crash-test
          ${CMAKE_CURRENT_BINARY_DIR}/checkpoint-kill-during-save 20)
set_tests_properties(checkpoint-kill-during-save PROPERTIES TIMEOUT 300)

# Interop with the `safetensors` PyPI package and torch, from the repo's
# venv when there is one; the script exits 77 (skipped) without them.
if(EXISTS ${CMAKE_SOURCE_DIR}/.venv/bin/python)
  set(KILN_INTEROP_PYTHON ${CMAKE_SOURCE_DIR}/.venv/bin/python)
else()
  find_program(KILN_INTEROP_PYTHON NAMES python3)
endif()
if(KILN_INTEROP_PYTHON)
  add_test(NAME safetensors-interop
    COMMAND ${KILN_INTEROP_PYTHON}
            ${CMAKE_SOURCE_DIR}/test/tools/safetensors_interop.py
            $<TARGET_FILE:kiln-checkpoint-tool>
            ${CMAKE_CURRENT_BINARY_DIR}/safetensors-interop)
  set_tests_properties(safetensors-interop PROPERTIES
    SKIP_RETURN_CODE 77 TIMEOUT 300)
endif()
