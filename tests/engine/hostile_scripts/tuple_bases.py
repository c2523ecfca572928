# expect: static
x = ().__class__.__bases__
