# SPDX-License-Identifier: Apache-2.0
# Render one man page: cmake -DMD2MAN=go-md2man -DIN=docs/man/launch-run.1.md
#   -DOUT=launch-run.1 -DVERSION=0.1.0 -P md2man.cmake
# Our pages open with `# LAUNCH-RUN(1)`, as they read on a forge; go-md2man
# makes the first level-1 heading the .TH line verbatim, so that heading is
# rewritten to .TH's fields first: title, section, date (left empty, so that
# builds are reproducible), source, manual.
file(READ "${IN}" text)
string(REGEX MATCH "^# ([A-Z0-9-]+)\\(([0-9])\\)\n" title "${text}")
if(NOT title)
  message(FATAL_ERROR "${IN}: the first line must be the title, e.g. `# LAUNCH-RUN(1)`")
endif()
string(LENGTH "${title}" skip)
string(SUBSTRING "${text}" ${skip} -1 body)
get_filename_component(tmp "${OUT}" DIRECTORY)
get_filename_component(name "${OUT}" NAME)
set(tmp "${tmp}/.${name}.md")
file(WRITE "${tmp}" "# ${CMAKE_MATCH_1} ${CMAKE_MATCH_2} \"\" \"launch ${VERSION}\" \"launch manual\"\n${body}")
execute_process(COMMAND "${MD2MAN}" -in "${tmp}" -out "${OUT}" RESULT_VARIABLE rc)
file(REMOVE "${tmp}")
if(NOT rc EQUAL 0)
  file(REMOVE "${OUT}")
  message(FATAL_ERROR "${MD2MAN} failed on ${IN} (${rc})")
endif()
