# SPDX-License-Identifier: Apache-2.0
# docs.cmake: man pages and bash completion of qsnn, generated at build time from the built binary, so they say
# what `qsnn CMD --help` says and complete what its parser takes (tools/cli.c):
#   share/bash-completion/completions/qsnn   scripts/gen_completion.sh (bash only)
#   man/man1/qsnn.1, qsnn-<command>.1        scripts/gen_man.sh, with help2man (Debian package help2man); without
#                                            it the man pages are skipped with a note, the rest builds
# Both run the binary, so neither is made when cross-compiling. Included at the end of CMakeLists.txt.
option(QSNN_MAN "build the man pages with help2man when it is installed" ON)
include(GNUInstallDirs)

if(CMAKE_CROSSCOMPILING)
  message(STATUS "qsnn: cross-compiling: no man pages or bash completion (they run the built qsnn)")
  return()
endif()

set(QSNN_COMPLETION ${CMAKE_BINARY_DIR}/share/bash-completion/completions/qsnn)
add_custom_command(OUTPUT ${QSNN_COMPLETION}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/share/bash-completion/completions
  COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/gen_completion.sh $<TARGET_FILE:qsnn> ${QSNN_COMPLETION}
  DEPENDS qsnn ${CMAKE_SOURCE_DIR}/scripts/gen_completion.sh ${CMAKE_SOURCE_DIR}/scripts/qsnn_commands.sh
  COMMENT "bash completion of qsnn from its option tables" VERBATIM)
set(QSNN_DOC_OUTPUTS ${QSNN_COMPLETION})
install(FILES ${QSNN_COMPLETION} DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)

set(QSNN_MAN_DIR "")
if(QSNN_MAN)
  find_program(HELP2MAN_EXECUTABLE help2man)
  if(HELP2MAN_EXECUTABLE)
    set(QSNN_MAN_DIR ${CMAKE_BINARY_DIR}/man/man1)
    add_custom_command(OUTPUT ${QSNN_MAN_DIR}/.stamp
      COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/gen_man.sh ${HELP2MAN_EXECUTABLE} $<TARGET_FILE:qsnn> ${QSNN_MAN_DIR}
      DEPENDS qsnn ${CMAKE_SOURCE_DIR}/scripts/gen_man.sh ${CMAKE_SOURCE_DIR}/scripts/qsnn_commands.sh
      COMMENT "man pages of qsnn from --help (help2man)" VERBATIM)
    list(APPEND QSNN_DOC_OUTPUTS ${QSNN_MAN_DIR}/.stamp)
    install(DIRECTORY ${QSNN_MAN_DIR}/ DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 FILES_MATCHING PATTERN "*.1")
  else()
    message(STATUS "qsnn: help2man not found: no man pages (apt-get install help2man)")
  endif()
endif()

add_custom_target(qsnn_docs ALL DEPENDS ${QSNN_DOC_OUTPUTS})
# tests/test_cli.c checks the completion, and the man pages when they are built
if(TARGET test_cli)
  add_dependencies(test_cli qsnn_docs)
  target_compile_definitions(test_cli PRIVATE QSNN_COMPLETION="${QSNN_COMPLETION}" QSNN_MAN_DIR="${QSNN_MAN_DIR}")
endif()
