kiln_add_unittest(KilnAutogradEngineTests
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/AutogradEngineTest.cpp
  LIBS KilnRuntime)
kiln_add_unittest(KilnReadmeTrainingTests
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/ReadmeTrainingTest.cpp
  LIBS KilnRuntime)
