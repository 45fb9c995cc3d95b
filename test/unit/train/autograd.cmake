# Finite-difference checks of every differentiable op (issue 4).
kiln_add_unittest(KilnAutogradTests
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/GradCheckElementwiseTest.cpp
    ${CMAKE_CURRENT_LIST_DIR}/GradCheckCoreTest.cpp
    ${CMAKE_CURRENT_LIST_DIR}/GradCheckNNTest.cpp
    ${CMAKE_CURRENT_LIST_DIR}/GradCheckRecurrentTest.cpp
    ${CMAKE_CURRENT_LIST_DIR}/GradCheckShapeTest.cpp
    ${CMAKE_CURRENT_LIST_DIR}/GradCheckRegistryTest.cpp
  LIBS KilnRuntime)
