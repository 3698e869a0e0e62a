# `vmsim sweep --emit-jobs` -> GNU parallel on localhost -> `vmsim merge`
# gives the local sweep's table byte for byte (CSV and --json). Without GNU
# parallel (Debian package `parallel`; scripts/deps.sh installs it) the
# jobs run one after another with sh, and the test says so.
#   -DVMSIM=path/to/vmsim -DTRACE=trace -DWORK=scratch-dir
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})

function(check what rc err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what}: exit status ${rc}\n${err}")
  endif()
endfunction()

set(grid --policy fifo,lru,clock,opt --resident-limit 1p..6p:1p,8p --swap 1MiB --seed 3)
execute_process(COMMAND ${VMSIM} sweep ${TRACE} ${grid}
  RESULT_VARIABLE rc OUTPUT_FILE ${WORK}/local.csv ERROR_VARIABLE err)
check("sweep" "${rc}" "${err}")
execute_process(COMMAND ${VMSIM} sweep ${TRACE} ${grid} --json
  RESULT_VARIABLE rc OUTPUT_FILE ${WORK}/local.json ERROR_VARIABLE err)
check("sweep --json" "${rc}" "${err}")
execute_process(COMMAND ${VMSIM} sweep ${TRACE} ${grid} --emit-jobs
  RESULT_VARIABLE rc OUTPUT_FILE ${WORK}/jobs.txt ERROR_VARIABLE err)
check("sweep --emit-jobs" "${rc}" "${err}")
file(STRINGS ${WORK}/jobs.txt jobs)
list(LENGTH jobs njobs)
if(NOT njobs EQUAL 28)
  message(FATAL_ERROR "--emit-jobs: ${njobs} lines, want 28")
endif()

find_program(PARALLEL parallel)
if(PARALLEL)
  execute_process(COMMAND ${PARALLEL} --will-cite -j 2 --sshlogin : --joblog ${WORK}/joblog
    INPUT_FILE ${WORK}/jobs.txt OUTPUT_FILE ${WORK}/results.jsonl
    RESULT_VARIABLE rc ERROR_VARIABLE err)
  check("parallel < jobs.txt" "${rc}" "${err}")
else()
  message(STATUS "GNU parallel is not installed (apt-get install parallel): running the "
    "jobs serially with sh instead")
  execute_process(COMMAND sh ${WORK}/jobs.txt OUTPUT_FILE ${WORK}/results.jsonl
    RESULT_VARIABLE rc ERROR_VARIABLE err)
  check("sh jobs.txt" "${rc}" "${err}")
endif()

# Split the results in two files, the second half first: order does not matter.
file(STRINGS ${WORK}/results.jsonl results)
list(LENGTH results n)
if(NOT n EQUAL 28)
  message(FATAL_ERROR "the jobs printed ${n} lines, want 28")
endif()
list(SUBLIST results 0 14 first)
list(SUBLIST results 14 14 second)
list(JOIN first "\n" first)
list(JOIN second "\n" second)
file(WRITE ${WORK}/a.jsonl "${first}\n")
file(WRITE ${WORK}/b.jsonl "${second}\n")

execute_process(COMMAND ${VMSIM} merge ${WORK}/b.jsonl ${WORK}/a.jsonl
  RESULT_VARIABLE rc OUTPUT_FILE ${WORK}/merged.csv ERROR_VARIABLE err)
check("merge" "${rc}" "${err}")
execute_process(COMMAND ${VMSIM} merge --json ${WORK}/a.jsonl ${WORK}/b.jsonl
  RESULT_VARIABLE rc OUTPUT_FILE ${WORK}/merged.json ERROR_VARIABLE err)
check("merge --json" "${rc}" "${err}")
foreach(ext csv json)
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${WORK}/local.${ext}
    ${WORK}/merged.${ext} RESULT_VARIABLE same)
  if(NOT same EQUAL 0)
    file(READ ${WORK}/local.${ext} a)
    file(READ ${WORK}/merged.${ext} b)
    message(FATAL_ERROR "merge differs from the local sweep (${ext}):\n${a}\n---\n${b}")
  endif()
endforeach()

# A missing cell is an error.
execute_process(COMMAND ${VMSIM} merge ${WORK}/a.jsonl
  RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
if(NOT rc EQUAL 2 OR NOT err MATCHES "is missing")
  message(FATAL_ERROR "merge of half the cells: exit ${rc}, ${err}")
endif()
file(REMOVE_RECURSE ${WORK})
