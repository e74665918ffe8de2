"""The operator's side of every job: errors and exit codes, input files read to their end, output directories
sumflow owns, and the version of the code that wrote an output. Standard library only; every package may use it.
"""
