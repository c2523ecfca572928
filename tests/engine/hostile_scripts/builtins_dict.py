# expect: static
x = __builtins__['__import__']('os')
