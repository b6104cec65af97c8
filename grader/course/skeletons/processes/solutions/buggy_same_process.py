# expect: fail runs-in-a-child
# why: calls fn directly: no child process at all.
def run_in_child(fn, arg):
    return fn(arg)
