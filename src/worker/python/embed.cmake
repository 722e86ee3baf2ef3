# Writes OUTPUT, a C++ source defining thaw::worker::kThawSklearnSource with SOURCE's text.
file(READ ${SOURCE} text)
string(FIND "${text}" ")thaw_py\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${SOURCE} contains the raw-string delimiter )thaw_py\"")
endif()
file(WRITE ${OUTPUT}.tmp
  "// Generated from ${SOURCE} by embed.cmake; do not edit.\n"
  "namespace thaw::worker {\n"
  "extern const char kThawSklearnSource[];\n"
  "const char kThawSklearnSource[] = R\"thaw_py(${text})thaw_py\";\n"
  "}  // namespace thaw::worker\n")
file(RENAME ${OUTPUT}.tmp ${OUTPUT})
