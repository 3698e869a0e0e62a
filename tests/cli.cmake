# Run the vmsim tool with ARGS (a ;-list) and require exit status STATUS
# and, if given, stdout matching OUT and stderr matching ERR.
#   -DVMSIM=path/to/vmsim "-DARGS=replay;--help" -DSTATUS=0 [-DOUT=regex] [-DERR=regex]
execute_process(COMMAND ${VMSIM} ${ARGS}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL STATUS)
  message(FATAL_ERROR "vmsim ${ARGS}: exit status ${rc}, want ${STATUS}\nstdout: ${out}\nstderr: ${err}")
endif()
if(DEFINED OUT AND NOT out MATCHES "${OUT}")
  message(FATAL_ERROR "vmsim ${ARGS}: stdout does not match '${OUT}':\n${out}")
endif()
if(DEFINED ERR AND NOT err MATCHES "${ERR}")
  message(FATAL_ERROR "vmsim ${ARGS}: stderr does not match '${ERR}':\n${err}")
endif()
