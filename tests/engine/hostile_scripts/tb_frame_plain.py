# expect: static
def f(tb):
    return tb.tb_frame
x = 1
