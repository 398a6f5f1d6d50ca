package model

// IsEntity makes these models members of the federation `_Entity` union
// (federation.graphqls; gqlgen binds it to an interface with this method).
func (FolderItem) IsEntity() {}
func (Table) IsEntity()      {}
func (View) IsEntity()       {}
func (Row) IsEntity()        {}
