# Optimizers, learning-rate schedules and gradient clipping (issue 4).
kiln_add_unittest(KilnOptimTests
  SOURCES
    ${CMAKE_CURRENT_SOURCE_DIR}/ClipGradTest.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/OptimizerTest.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/OptimStateTest.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/SchedulerTest.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/TrainingLoopTest.cpp
  LIBS KilnRuntime)
