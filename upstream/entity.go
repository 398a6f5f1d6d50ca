package upstream

// IsEntity marks the models the GraphQL layer serves as Apollo Federation
// entities: gqlgen binds the `_Entity` union to an interface with this one
// method (fedruntime.Entity). It carries no behaviour, and upstream knows
// nothing else of GraphQL.
func (Workspace) IsEntity()   {}
func (DTable) IsEntity()      {}
func (Folder) IsEntity()      {}
func (SharedView) IsEntity()  {}
func (ShareFolder) IsEntity() {}
