# expect: static
def g():
    yield 1
x = 1
