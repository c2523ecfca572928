# expect: runtime: adânc
def f(n):
    return f(n + 1)
x = f(0)
