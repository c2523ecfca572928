# expect: static
def f(frame):
    return frame.f_back.f_globals
x = 1
