# expect: static
x = __import__('os')
