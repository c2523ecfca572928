# expect: static
exec('x = 1')
