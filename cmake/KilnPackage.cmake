# Installs the runtime (what a C++ host links) and exports it as a CMake
# package, so that a host can write:
#   find_package(Kiln REQUIRED)
#   target_link_libraries(my_host PRIVATE Kiln::Runtime)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS KilnSupport KilnRuntime EXPORT KilnTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY support/include/ runtime/include/
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT KilnTargets NAMESPACE Kiln::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Kiln)

configure_package_config_file(cmake/KilnConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/KilnConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Kiln)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/KilnConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/KilnConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/KilnConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Kiln)

# Build-tree export: a host can point Kiln_DIR at the build directory.
export(EXPORT KilnTargets NAMESPACE Kiln::
  FILE ${CMAKE_CURRENT_BINARY_DIR}/KilnTargets.cmake)
