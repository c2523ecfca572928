# expect: static
x = locals()
