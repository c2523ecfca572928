# expect: static
x = os.system('true')
