# expect: static
x = eval('1 + 1')
