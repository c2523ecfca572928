# expect: static
g = (i for i in [1])
x = g.gi_frame.f_back
