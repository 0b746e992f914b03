# SPDX-License-Identifier: Apache-2.0
# install.cmake: what `cmake --install BUILD --prefix P` puts under P (GNUInstallDirs), the pkg-config files and the
# CMake package (included at the end of CMakeLists.txt, or after the engine with -DQSNN_ENGINE_ONLY=ON):
#   lib/        libqsnn_core, libqsnn_snn (the engine and its .snn loader), libqsnn (the rest), static or shared
#               (BUILD_SHARED_LIBS; SONAME libX.so.0.2 while the major version is 0, then libX.so.MAJOR)
#   include/qsnn/  the public headers and the generated version.h (the engine's alone with QSNN_ENGINE_ONLY)
#   bin/qsnn    the command
#   share/qsnn/models/  the shipped models, the architecture JSON files and the MLPerf Tiny teacher (its licence)
#   share/doc/qsnn/     LICENSE, NOTICE, README.md, CHANGELOG.md
#   lib/pkgconfig/qsnn-snn.pc (engine alone), qsnn.pc (everything; Requires qsnn-snn): `pkg-config --cflags
#               --libs qsnn` links a static or a shared libqsnn alike
#   lib/cmake/qsnn/     find_package(qsnn [COMPONENTS snn qsnn]): qsnn::snn (with qsnn::core), qsnn::qsnn
# Every file refers to the prefix relatively (pkg-config's ${pcfiledir}, CMake's package prefix): the tree can be
# installed or moved anywhere.
include(CMakePackageConfigHelpers)

if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(QSNN_SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR}) # 0.x: a minor release may break the ABI
else()
  set(QSNN_SOVERSION ${PROJECT_VERSION_MAJOR})
endif()
set(QSNN_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/qsnn)
set(QSNN_PCDIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
file(RELATIVE_PATH QSNN_PC_TO_PREFIX "/${QSNN_PCDIR}" "/")
string(REGEX REPLACE "/$" "" QSNN_PC_TO_PREFIX "${QSNN_PC_TO_PREFIX}")

# ---- the engine: libqsnn_core + libqsnn_snn ----
set_target_properties(qsnn_core PROPERTIES VERSION ${PROJECT_VERSION} SOVERSION ${QSNN_SOVERSION} EXPORT_NAME core)
set_target_properties(qsnn_snn PROPERTIES VERSION ${PROJECT_VERSION} SOVERSION ${QSNN_SOVERSION} EXPORT_NAME snn)
install(TARGETS qsnn_core qsnn_snn EXPORT qsnn-snn-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT qsnn-snn-targets NAMESPACE qsnn:: DESTINATION ${QSNN_CMAKEDIR})
set(QSNN_ENGINE_HEADERS core.h labels.h tensor.h snn.h snn_meta.h)
list(TRANSFORM QSNN_ENGINE_HEADERS PREPEND ${PROJECT_SOURCE_DIR}/include/qsnn/)
install(FILES ${QSNN_ENGINE_HEADERS} ${PROJECT_BINARY_DIR}/include/qsnn/version.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/qsnn)
configure_file(${PROJECT_SOURCE_DIR}/cmake/qsnn-snn.pc.in ${PROJECT_BINARY_DIR}/qsnn-snn.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/qsnn-snn.pc DESTINATION ${QSNN_PCDIR})

# ---- libqsnn, the command, the shipped files ----
set(QSNN_PACKAGE_FULL OFF)
if(TARGET qsnn_lib)
  set(QSNN_PACKAGE_FULL ON)
  set_target_properties(qsnn_lib PROPERTIES VERSION ${PROJECT_VERSION} SOVERSION ${QSNN_SOVERSION} EXPORT_NAME qsnn)
  install(TARGETS qsnn_lib EXPORT qsnn-targets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(EXPORT qsnn-targets NAMESPACE qsnn:: DESTINATION ${QSNN_CMAKEDIR})
  install(TARGETS qsnn RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  if(BUILD_SHARED_LIBS) # bin/qsnn finds lib/ wherever the prefix is
    file(RELATIVE_PATH QSNN_BIN_TO_LIB "/${CMAKE_INSTALL_BINDIR}" "/${CMAKE_INSTALL_LIBDIR}")
    set_target_properties(qsnn PROPERTIES INSTALL_RPATH "$ORIGIN/${QSNN_BIN_TO_LIB}")
  endif()
  # directories, not configure-time globs: a header or model added or removed later is installed as it is
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/qsnn/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/qsnn
          FILES_MATCHING PATTERN "*.h")
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/models/ DESTINATION ${CMAKE_INSTALL_DATADIR}/qsnn/models
          FILES_MATCHING PATTERN "*.json" PATTERN "*.qsnn" PATTERN "teachers" EXCLUDE)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/models/teachers DESTINATION ${CMAKE_INSTALL_DATADIR}/qsnn/models)

  # qsnn.pc: what a static libqsnn needs to link (Requires.private / Libs.private; a shared one carries them)
  set(QSNN_PC_REQUIRES_PRIVATE "sndfile kissfft-float libcjson cairo samplerate nettle")
  if(QSNN_FFTW)
    string(APPEND QSNN_PC_REQUIRES_PRIVATE " fftw3f")
  endif()
  set(QSNN_PC_LIBS_PRIVATE "")
  if(QSNN_SYNTH)
    string(APPEND QSNN_PC_REQUIRES_PRIVATE " espeak-ng")
    foreach(f ${QSNN_FLITE_LIBS})
      get_filename_component(n ${f} NAME_WE)
      string(REGEX REPLACE "^lib" "" n ${n})
      string(APPEND QSNN_PC_LIBS_PRIVATE " -l${n}")
    endforeach()
  endif()
  if(OPENBLAS_FOUND)
    string(APPEND QSNN_PC_REQUIRES_PRIVATE " openblas")
  endif()
  string(APPEND QSNN_PC_LIBS_PRIVATE " ${OpenMP_C_FLAGS} -lm")
  string(STRIP "${QSNN_PC_LIBS_PRIVATE}" QSNN_PC_LIBS_PRIVATE)
  # a static libqsnn needs its dependencies on every link: public, so that plain `pkg-config --libs qsnn` works
  # (--static would also pull the dependencies' own static-only libraries, which distributions do not ship)
  set(QSNN_PC_REQUIRES "qsnn-snn = ${PROJECT_VERSION}")
  set(QSNN_PC_LIBS "")
  if(NOT BUILD_SHARED_LIBS)
    string(APPEND QSNN_PC_REQUIRES " ${QSNN_PC_REQUIRES_PRIVATE}")
    set(QSNN_PC_REQUIRES_PRIVATE "")
    set(QSNN_PC_LIBS " ${QSNN_PC_LIBS_PRIVATE}")
    set(QSNN_PC_LIBS_PRIVATE "")
  endif()
  configure_file(${PROJECT_SOURCE_DIR}/cmake/qsnn.pc.in ${PROJECT_BINARY_DIR}/qsnn.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/qsnn.pc DESTINATION ${QSNN_PCDIR})
endif()
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE ${PROJECT_SOURCE_DIR}/NOTICE ${PROJECT_SOURCE_DIR}/README.md
  ${PROJECT_SOURCE_DIR}/CHANGELOG.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

# ---- the CMake package ----
set(QSNN_PACKAGE_SHARED ${BUILD_SHARED_LIBS})
set(QSNN_PACKAGE_SYNTH ${QSNN_SYNTH})
if(QSNN_FFTW)
  set(QSNN_PACKAGE_FFTW 1)
else()
  set(QSNN_PACKAGE_FFTW 0)
endif()
set(QSNN_PACKAGE_OPENBLAS ${OPENBLAS_FOUND})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/qsnnConfig.cmake.in
  ${PROJECT_BINARY_DIR}/qsnnConfig.cmake INSTALL_DESTINATION ${QSNN_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/qsnnConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/qsnnConfig.cmake ${PROJECT_BINARY_DIR}/qsnnConfigVersion.cmake
  DESTINATION ${QSNN_CMAKEDIR})
