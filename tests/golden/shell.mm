# shell runs a program on the host: its standard output is the response
shell echo "one argument" two
shell printf "a\nb\n"
# standard error is shown as an error, as minimega does
shell sh -c "echo out; echo err >&2"
# a non-zero exit status, a missing program
shell false
shell labwire-no-such-program
shell
