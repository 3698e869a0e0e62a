# Convert TRACE through every container (JSON document, JSON Lines, binary
# .vmtr) and gzip, each output read back as the input of the next, and
# require each to replay with exactly the original's `replay --json` output
# and exit status.
#   -DVMSIM=path/to/vmsim -DTRACE=trace -DWORK=scratch-dir
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
execute_process(COMMAND ${VMSIM} replay --json ${TRACE}
  RESULT_VARIABLE want_rc OUTPUT_VARIABLE want ERROR_VARIABLE want_err)
if(want_rc GREATER 3)
  message(FATAL_ERROR "the original does not replay (${want_rc}): ${want_err}")
endif()
# Each step: source -> output; the chain visits every pair of formats.
set(steps
  "${TRACE}|a.jsonl"
  "${TRACE}|b.vmtr"
  "${TRACE}|c.json.gz"
  "${WORK}/a.jsonl|d.vmtr.gz"
  "${WORK}/d.vmtr.gz|e.json"
  "${WORK}/e.json|f.jsonl.gz"
  "${WORK}/f.jsonl.gz|g.json"
  "${WORK}/b.vmtr|h.jsonl"
  "${WORK}/c.json.gz|i.vmtr")
foreach(step ${steps})
  string(REPLACE "|" ";" step "${step}")
  list(GET step 0 src)
  list(GET step 1 out)
  execute_process(COMMAND ${VMSIM} convert ${src} ${WORK}/${out}
    RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "convert ${src} ${out}: exit ${rc}: ${err}")
  endif()
  execute_process(COMMAND ${VMSIM} replay --json ${WORK}/${out}
    RESULT_VARIABLE got_rc OUTPUT_VARIABLE got ERROR_VARIABLE got_err)
  if(NOT got_rc EQUAL want_rc)
    message(FATAL_ERROR "${out}: exit ${got_rc}, the original ${want_rc}: ${got_err}")
  endif()
  if(NOT got STREQUAL want)
    file(WRITE ${WORK}/want.json "${want}")
    file(WRITE ${WORK}/${out}.got.json "${got}")
    message(FATAL_ERROR "${out}: replay --json differs from the original's "
      "(see ${WORK}/want.json and ${WORK}/${out}.got.json)")
  endif()
endforeach()
file(REMOVE_RECURSE ${WORK})
