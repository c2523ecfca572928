# expect: static
x = type('X', (), {})
