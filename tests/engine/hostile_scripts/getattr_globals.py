# expect: static
f = lambda: 1
x = getattr(f, '__globals__')
