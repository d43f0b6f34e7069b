import sys

# Keep bytecode caches even where the environment says not to (PYTHONDONTWRITEBYTECODE): else
# every xdist worker and every `afterview` child process compiles the whole package again (and
# this package is imported before the conftest imports `app`).
sys.dont_write_bytecode = False
