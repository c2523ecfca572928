# expect: static
x = vars()
