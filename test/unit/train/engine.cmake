kiln_add_unittest(KilnAutogradEngineTests
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/AutogradEngineTest.cpp
  LIBS KilnRuntime)
