from kinemotion_cli.cli import main

main()
