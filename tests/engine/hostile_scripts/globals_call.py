# expect: static
x = globals()
