# Optimizers, learning-rate schedules and gradient clipping (issue 4).
kiln_add_unittest(KilnOptimTests
  SOURCES
    ${CMAKE_CURRENT_SOURCE_DIR}/OptimizerTest.cpp
  LIBS KilnRuntime)
