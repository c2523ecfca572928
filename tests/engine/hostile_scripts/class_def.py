# expect: static
class A:
    pass
