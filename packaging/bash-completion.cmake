# cmake -DBINARY=... -DAWK_SCRIPT=... -DOUTPUT=... -P bash-completion.cmake
# The completion script from the built binary's --help (see bash-completion.awk).
execute_process(COMMAND ${BINARY} --help
                COMMAND awk -f ${AWK_SCRIPT}
                OUTPUT_FILE ${OUTPUT}
                COMMAND_ERROR_IS_FATAL ANY)
