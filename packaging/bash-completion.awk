# Turns `invent-dispatch --help` into the bash completion script, at build
# time, so the completion offers exactly the commands and options the binary
# has. What a value completes to is read from its name in --help: a PATH is a
# file, FMT and LEVEL are the choices below, anything else is typed.
#
#   invent-dispatch --help | awk -f bash-completion.awk > invent-dispatch.bash

BEGIN {
    choices["FMT"] = "csv tsv jsonl"
    choices["LEVEL"] = "trace debug info warn error off"
}

{ lines[++count] = $0 }

# po pads the option column to where the descriptions start; a description
# that does not fit goes on the next line, starting at that column.
function description_column(    i, line) {
    for (i = 1; i <= count; i++) {
        line = lines[i]
        if (line ~ /^     +[^ ]/) return match(line, /[^ ]/)
    }
    return 0
}

function add_command(name) {
    if (!(name in known)) { known[name] = 1; commands = commands " " name }
}

function add_option(command, option, value,    pattern) {
    options[command] = options[command] " " option
    if (value == "") return
    pattern = command "/" option
    if (value ~ /PATH|FILE/) files_after = files_after "|" pattern
    else if (value in choices) {
        if (!(value in choice_patterns)) choice_order[++choice_count] = value
        choice_patterns[value] = choice_patterns[value] "|" pattern
    } else typed_after = typed_after "|" pattern
}

END {
    column = description_column()
    if (column == 0) { print "bash-completion.awk: no option descriptions in the input" > "/dev/stderr"; exit 1 }
    section = ""
    for (i = 1; i <= count; i++) {
        line = lines[i]
        if (line ~ /^Usage: |^  or:  /) {
            # "Usage: invent-dispatch run [options] INPUT": an upper-case
            # operand is a file; "help | --help | --version": global flags.
            n = split(line, word, " ")
            for (w = 4; w <= n; w++) {
                if (word[w] ~ /^--/) global_flags = global_flags " " word[w]
                else if (word[w] ~ /^[A-Z]/) takes_files[word[3]] = 1
            }
            continue
        }
        if (line ~ /^[A-Z]/) {
            section = line ~ /^Commands:$/ ? "commands" : line ~ /^Options for .*:$/ ? "options" : ""
            if (section == "options") {
                list = line
                sub(/^Options for /, "", list); sub(/:$/, "", list); gsub(/,| and /, " ", list)
                section_commands = list
            }
            continue
        }
        if (section == "commands" && line ~ /^  [a-z]/) {
            split(line, word, " ")
            add_command(word[1])
        } else if (section == "options" && line ~ /^  --/) {
            option_column = line
            if (length(line) >= column && substr(line, column - 1, 1) == " ")
                option_column = substr(line, 1, column - 2)
            n = split(option_column, word, " ")
            value = (n >= 2 && word[2] !~ /^\(/) ? word[2] : ""
            m = split(section_commands, for_command, " ")
            for (c = 1; c <= m; c++) add_option(for_command[c], word[1], value)
        }
    }

    print "# bash completion for invent-dispatch: generated from `invent-dispatch --help`"
    print "# by packaging/bash-completion.awk when the binary is built. Do not edit."
    print ""
    print "_invent_dispatch() {"
    print "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}"
    print "    # bash splits --option=value at the '='"
    print "    if [[ $cur == = ]]; then cur=''"
    print "    elif [[ $prev == = && $COMP_CWORD -ge 2 ]]; then prev=${COMP_WORDS[COMP_CWORD-2]}"
    print "    fi"
    print "    if [[ $COMP_CWORD -eq 1 ]]; then"
    print "        mapfile -t COMPREPLY < <(compgen -W '" substr(commands, 2) global_flags "' -- \"$cur\")"
    print "        return"
    print "    fi"
    print "    local command=${COMP_WORDS[1]}"
    print "    case $command/$prev in"
    for (k = 1; k <= choice_count; k++) {
        value = choice_order[k]
        print "    " substr(choice_patterns[value], 2) ")"
        print "        mapfile -t COMPREPLY < <(compgen -W '" choices[value] "' -- \"$cur\"); return ;;"
    }
    if (files_after != "") {
        print "    " substr(files_after, 2) ")"
        print "        compopt -o filenames; mapfile -t COMPREPLY < <(compgen -f -- \"$cur\"); return ;;"
    }
    if (typed_after != "") {
        print "    " substr(typed_after, 2) ")"
        print "        COMPREPLY=(); return ;;"
    }
    print "    esac"
    print "    local options"
    print "    case $command in"
    n = split(substr(commands, 2), command_list, " ")
    for (c = 1; c <= n; c++) {
        name = command_list[c]
        print "    " name ") options='" substr(options[name] " --help", 2) "' ;;"
    }
    print "    *) return ;;"
    print "    esac"
    print "    if [[ $cur == -* ]]; then"
    print "        mapfile -t COMPREPLY < <(compgen -W \"$options\" -- \"$cur\")"
    files = ""
    for (c = 1; c <= n; c++) if (command_list[c] in takes_files) files = files "|" command_list[c]
    if (files != "") {
        print "    else"
        print "        case $command in " substr(files, 2) ")"
        print "            compopt -o filenames; mapfile -t COMPREPLY < <(compgen -f -- \"$cur\") ;;"
        print "        esac"
    }
    print "    fi"
    print "}"
    print "complete -F _invent_dispatch invent-dispatch"
}
