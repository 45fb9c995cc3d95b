kiln_add_unittest(KilnNNTests
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/NNLayersTest.cpp
    ${CMAKE_CURRENT_LIST_DIR}/NNModuleTest.cpp
  LIBS KilnRuntime)
