# Checks that dependencies between the folders of src/ run one way: a file may include headers of
# its own folder and of folders on a lower tier, never of a higher tier or of another folder on
# its own tier (those are independent of each other).
#   cmake -DSRC_DIR=<repo>/src -P layering.cmake
# The tiers, lowest first; keep docs/architecture.md in step with this list.
set(tiers
  "util"
  "kernels"
  "model"
  "io"
  "tokenizer;report"
  "generate;prune"
  "bias;eval"
  "pipeline"
  "serve"
  "cli;python")

set(tier_index 0)
foreach(tier IN LISTS tiers)
  foreach(folder ${tier})
    set(tier_of_${folder} ${tier_index})
  endforeach()
  math(EXPR tier_index "${tier_index} + 1")
endforeach()

file(GLOB_RECURSE files RELATIVE "${SRC_DIR}" "${SRC_DIR}/*.h" "${SRC_DIR}/*.cpp" "${SRC_DIR}/*.h.in")
set(violations "")
set(checked 0)
foreach(file IN LISTS files)
  string(REGEX MATCH "^[^/]+" folder "${file}")
  if(NOT DEFINED tier_of_${folder})
    string(APPEND violations "  src/${file}: folder '${folder}' has no tier in tests/structure/layering.cmake\n")
    continue()
  endif()
  file(STRINGS "${SRC_DIR}/${file}" includes REGEX "^[ \t]*#[ \t]*include[ \t]*\"[^\"]+\"")
  foreach(line IN LISTS includes)
    string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]+)\".*" "\\1" header "${line}")
    math(EXPR checked "${checked} + 1")
    if(NOT header MATCHES "/")
      string(APPEND violations "  src/${file}: #include \"${header}\" names no folder\n")
      continue()
    endif()
    string(REGEX MATCH "^[^/]+" target "${header}")
    if(target STREQUAL folder)
      continue()
    endif()
    if(NOT DEFINED tier_of_${target})
      string(APPEND violations "  src/${file}: includes \"${header}\" from unknown folder '${target}'\n")
    elseif(NOT tier_of_${target} LESS tier_of_${folder})
      string(APPEND violations "  src/${file}: ${folder} includes \"${header}\" from ${target}, which is not below it\n")
    endif()
  endforeach()
endforeach()

if(checked EQUAL 0)
  message(FATAL_ERROR "no #include lines found under ${SRC_DIR}: wrong folder?")
endif()
if(violations)
  message(FATAL_ERROR "include layering violated:\n${violations}")
endif()
message(STATUS "layering holds: ${checked} project includes checked")
