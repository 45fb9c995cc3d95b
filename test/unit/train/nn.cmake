kiln_add_unittest(KilnNNTests
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/NNLayersTest.cpp
  LIBS KilnRuntime)
