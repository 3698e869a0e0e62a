# `vmsim pagetable --png`: drawn with Graphviz's dot when it is installed
# (a PNG file), else the DOT file is written and the message says how to
# install graphviz.
#   -DVMSIM=path/to/vmsim -DTRACE=trace -DWORK=scratch-dir
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
execute_process(COMMAND ${VMSIM} pagetable ${TRACE} --pid 2 --at 4 --png ${WORK}/pt.png
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pagetable --png: exit status ${rc}\n${err}")
endif()
find_program(DOT dot)
if(DOT)
  file(READ ${WORK}/pt.png magic LIMIT 4 HEX)
  if(NOT magic STREQUAL "89504e47")
    message(FATAL_ERROR "pagetable --png: pt.png is not a PNG (${magic})\n${err}")
  endif()
else()
  if(NOT err MATCHES "apt-get install graphviz" OR NOT EXISTS ${WORK}/pt.dot)
    message(FATAL_ERROR "pagetable --png without graphviz: no pt.dot or no advice:\n${err}")
  endif()
  message(STATUS "graphviz is not installed: checked the DOT file and the message only")
endif()
file(REMOVE_RECURSE ${WORK})
