# Run `vmsim replay --check TRACE` and require exit status STATUS.
execute_process(COMMAND ${VMSIM} replay --check ${TRACE}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL ${STATUS})
  message(FATAL_ERROR "exit status ${rc}, want ${STATUS}\nstdout: ${out}\nstderr: ${err}")
endif()
